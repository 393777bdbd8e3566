package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Where Debian installs the IRC servers the chat tests run against.
const (
	NgircdBinary   = "/usr/sbin/ngircd"
	InspIRCdBinary = "/usr/sbin/inspircd"
)

// IRCOptions shape a test IRC server.
type IRCOptions struct {
	// Password, for ngircd, is the server password every client must give
	// with PASS.
	Password string
}

// IRCServer is a real IRC server (ngircd or InspIRCd) on a loopback port,
// with its configuration in a temporary directory. It is stopped by PID
// when the test ends; Kill and Start let a test take it away and bring it
// back on the same port.
type IRCServer struct {
	// Kind is "ngircd" or "inspircd".
	Kind string
	// Addr is host:port for clients.
	Addr string
	// Name is the server's name (the prefix of its numerics).
	Name string

	t    testing.TB
	bin  string
	args []string
	log  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// StartNgircd starts ngircd with its default flood penalties (the strict
// server: it drops a client that sends a line over 512 bytes), and fails
// the test with one sentence when it cannot.
func StartNgircd(t testing.TB, opts IRCOptions) *IRCServer {
	t.Helper()
	dir := t.TempDir()
	port := freeIRCPort(t)
	pass := ""
	if opts.Password != "" {
		pass = "\tPassword = " + opts.Password + "\n"
	}
	conf := fmt.Sprintf(`[Global]
	Name = ngircd.test
	Info = Klaxon test server
	AdminInfo1 = Klaxon tests
	AdminInfo2 = loopback
	AdminEMail = tests@localhost
	Listen = 127.0.0.1
	Ports = %d
	MotdPhrase = "Klaxon test server"
	PidFile =
%s[Limits]
	MaxConnectionsIP = 0
	PingTimeout = 120
	PongTimeout = 20
[Options]
	DNS = no
	Ident = no
	PAM = no
`, port, pass)
	path := filepath.Join(dir, "ngircd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &IRCServer{Kind: "ngircd", Name: "ngircd.test", Addr: fmt.Sprintf("127.0.0.1:%d", port), t: t,
		bin: NgircdBinary, args: []string{"-n", "-f", path}, log: filepath.Join(dir, "ngircd.log")}
	s.mustStart()
	return s
}

// StartInspIRCd starts InspIRCd 3 with the IRCv3 modules (message-tags,
// echo-message, labeled-response, server-time, account-tag,
// extended-join, MONITOR, WHOX) and the SASL module, whose target — a
// services server — is never linked, so SASL is not offered.
func StartInspIRCd(t testing.TB, opts IRCOptions) *IRCServer {
	t.Helper()
	dir := t.TempDir()
	port := freeIRCPort(t)
	modules := []string{"cap", "ircv3", "ircv3_accounttag", "ircv3_batch", "ircv3_capnotify", "ircv3_ctctags",
		"ircv3_echomessage", "ircv3_labeledresponse", "ircv3_msgid", "ircv3_servertime", "monitor", "namesx",
		"uhnames", "services_account", "sasl"}
	var b strings.Builder
	fmt.Fprintf(&b, `<config format="xml">
<server name="insp.test" description="Klaxon test server" network="KlaxonTest">
<admin name="Klaxon tests" nick="klaxon" email="tests@localhost">
<bind address="127.0.0.1" port="%d" type="clients">
<connect allow="*" timeout="60" pingfreq="120" localmax="1000" globalmax="1000" limit="1000" useident="no" resolvehostnames="no">
<pid file="%s">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default" target="%s">
<dns server="127.0.0.1" timeout="1">
<options>
<security>
<performance>
<files motd="%s">
<sasl target="services.insp.test" requiressl="no">
`, port, filepath.Join(dir, "inspircd.pid"), filepath.Join(dir, "inspircd.log"), filepath.Join(dir, "motd"))
	for _, m := range modules {
		fmt.Fprintf(&b, "<module name=%q>\n", m)
	}
	if opts.Password != "" {
		t.Fatalf("StartInspIRCd takes no server password")
	}
	if err := os.WriteFile(filepath.Join(dir, "motd"), []byte("Klaxon test server\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inspircd.conf")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--nofork", "--config", path}
	if os.Geteuid() == 0 {
		args = append(args, "--runasroot")
	}
	s := &IRCServer{Kind: "inspircd", Name: "insp.test", Addr: fmt.Sprintf("127.0.0.1:%d", port), t: t,
		bin: InspIRCdBinary, args: args, log: filepath.Join(dir, "inspircd.out")}
	s.mustStart()
	return s
}

func (s *IRCServer) mustStart() {
	s.t.Helper()
	if _, err := os.Stat(s.bin); err != nil {
		s.t.Fatalf("this test needs %s (%s): run 'make deps' (or apt-get install %s)", s.Kind, s.bin, s.Kind)
	}
	if err := s.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(s.Kill)
}

// Start starts the server (again) and waits until it accepts connections.
func (s *IRCServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("%s on %s is already running", s.Kind, s.Addr)
	}
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: %w", s.Kind, err)
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		return fmt.Errorf("start %s: %w", s.Kind, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		_ = logf.Close()
		close(exited)
	}()
	s.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			_ = conn.Close()
			s.exited = exited
			return nil
		}
		select {
		case <-exited:
			s.cmd = nil
			return fmt.Errorf("%s exited at start: %s", s.Kind, s.tail())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			s.cmd = nil
			return fmt.Errorf("%s did not listen on %s within 20s: %s", s.Kind, s.Addr, s.tail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill stops the server by its PID with SIGKILL — a crash, as clients
// see it — and waits for it to exit. Killing a stopped server does nothing.
func (s *IRCServer) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// Freeze stops the server process (SIGSTOP) without closing its sockets:
// a server that has hung. Thaw resumes it.
func (s *IRCServer) Freeze() { s.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *IRCServer) Thaw() { s.signal(syscall.SIGCONT) }

func (s *IRCServer) signal(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		_ = s.cmd.Process.Signal(sig)
	}
}

// Log is what the server wrote to its output so far.
func (s *IRCServer) Log() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

func (s *IRCServer) tail() string {
	l := s.Log()
	if len(l) > 2000 {
		l = l[len(l)-2000:]
	}
	return l
}

// freeIRCPort returns a loopback TCP port that was free a moment ago.
func freeIRCPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
