package testenv

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Where Debian's slapd and ldap-utils put things.
const (
	SlapdBinary   = "/usr/sbin/slapd"
	SlapaddBinary = "/usr/sbin/slapadd"
	LDAPModify    = "/usr/bin/ldapmodify"
	// slapdModules holds back_mdb.
	slapdModules = "/usr/lib/ldap"
	slapdSchemas = "/etc/ldap/schema"
)

// The directory a Slapd serves.
const (
	SlapdSuffix   = "dc=example,dc=com"
	SlapdPeople   = "ou=people,dc=example,dc=com"
	SlapdAdminDN  = "cn=admin,dc=example,dc=com"
	SlapdAdminPW  = "admin-secret"
	SlapdReaderDN = "cn=klaxon,ou=services,dc=example,dc=com"
	SlapdReaderPW = "reader-secret"
	// SlapdSizeLimit is the server's size limit for everyone but the
	// admin: a search of more entries must page.
	SlapdSizeLimit = 100
)

// Slapd is a real OpenLDAP server on a loopback port, serving SlapdSuffix
// from an mdb database in a temporary directory, with ou=people and a
// read-only service account (SlapdReaderDN) subject to SlapdSizeLimit.
type Slapd struct {
	URL string
	dir string
	cmd *exec.Cmd
	log *os.File
}

// StartSlapd writes a slapd.conf, loads the base entries and people (an
// LDIF of entries under SlapdPeople, may be empty) with slapadd, starts
// slapd on a free port and stops it by its PID when the test ends. The test
// fails with one sentence when slapd cannot be had.
func StartSlapd(t testing.TB, people string) *Slapd {
	t.Helper()
	for _, bin := range []string{SlapdBinary, SlapaddBinary, LDAPModify} {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("this test needs OpenLDAP's slapd and ldap-utils (%s is missing): run 'make deps' (or apt-get install slapd ldap-utils)", bin)
		}
	}
	if _, err := os.Stat(filepath.Join(slapdModules, "back_mdb.so")); err != nil {
		t.Fatalf("this test needs slapd's back_mdb module in %s: apt-get install slapd", slapdModules)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`include %[1]s/core.schema
include %[1]s/cosine.schema
include %[1]s/inetorgperson.schema
modulepath %[2]s
moduleload back_mdb
pidfile %[3]s/slapd.pid
argsfile %[3]s/slapd.args

database mdb
maxsize 268435456
suffix "%[4]s"
rootdn "%[5]s"
rootpw %[6]s
directory %[3]s/data
index objectClass eq
index uid eq
limits dn.exact="%[7]s" size.soft=%[8]d size.hard=%[8]d size.pr=%[8]d size.prtotal=unlimited
limits anonymous size.soft=%[8]d size.hard=%[8]d size.pr=%[8]d size.prtotal=unlimited
access to attrs=userPassword by anonymous auth by * none
access to * by * read
`, slapdSchemas, slapdModules, dir, SlapdSuffix, SlapdAdminDN, SlapdAdminPW, SlapdReaderDN, SlapdSizeLimit)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	seed := `dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,dc=example,dc=com
objectClass: organizationalUnit
ou: people

dn: ou=services,dc=example,dc=com
objectClass: organizationalUnit
ou: services

dn: ` + SlapdReaderDN + `
objectClass: person
objectClass: simpleSecurityObject
cn: klaxon
sn: klaxon
userPassword: ` + SlapdReaderPW + `

` + people
	seedPath := filepath.Join(dir, "seed.ldif")
	if err := os.WriteFile(seedPath, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(SlapaddBinary, "-q", "-f", confPath, "-l", seedPath).CombinedOutput(); err != nil {
		t.Fatalf("slapadd could not load the seed directory: %v: %s", err, bytes.TrimSpace(out))
	}
	s := &Slapd{dir: dir}
	s.start(t)
	t.Cleanup(s.Stop)
	return s
}

// start runs slapd on a free loopback port and waits until it answers.
func (s *Slapd) start(t testing.TB) {
	t.Helper()
	port := loopbackPort(t)
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	var err error
	if s.log, err = os.Create(filepath.Join(s.dir, "slapd.log")); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(SlapdBinary, "-d", "0", "-h", s.URL+"/", "-f", filepath.Join(s.dir, "slapd.conf"))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("slapd could not start: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(s.log.Name())
			t.Fatalf("slapd exited at start: %s", bytes.TrimSpace(log))
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			log, _ := os.ReadFile(s.log.Name())
			t.Fatalf("slapd did not listen on %s within 15 s: %s", s.URL, bytes.TrimSpace(log))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops slapd by its PID (SIGTERM, then SIGKILL after 5 s). Stopping a
// stopped server does nothing.
func (s *Slapd) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	p := s.cmd.Process
	s.cmd = nil
	_ = p.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for p.Signal(syscall.Signal(0)) == nil {
			time.Sleep(20 * time.Millisecond)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.Kill()
	}
	if s.log != nil {
		_ = s.log.Close()
	}
}

// Modify applies an LDIF of changes (changetype: add, modify, delete) as
// the admin, with ldapmodify; the test fails if the server refuses one.
func (s *Slapd) Modify(t testing.TB, ldif string) {
	t.Helper()
	cmd := exec.Command(LDAPModify, "-x", "-H", s.URL, "-D", SlapdAdminDN, "-w", SlapdAdminPW)
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldapmodify: %v: %s", err, bytes.TrimSpace(out))
	}
}
