package irc

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeServer is an in-process IRC server scripted line by line. It stands
// in where no real server can: neither ngircd nor InspIRCd offers SASL
// without a services server linked, so SASL PLAIN, account-tag values and
// garbage from the server are tested against it.
type fakeServer struct {
	t    *testing.T
	ln   net.Listener
	conn net.Conn
	r    *bufio.Reader
}

func newFakeServer(t *testing.T, tlsConf *tls.Config) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	t.Cleanup(func() { _ = ln.Close() })
	return &fakeServer{t: t, ln: ln}
}

func (f *fakeServer) accept() {
	f.t.Helper()
	conn, err := f.ln.Accept()
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = conn.Close() })
	f.conn, f.r = conn, bufio.NewReader(conn)
}

// expect reads client lines until one has the command, failing on cmds in
// refuse, and returns it.
func (f *fakeServer) expect(cmd string, refuse ...string) Message {
	f.t.Helper()
	_ = f.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		line, err := f.r.ReadString('\n')
		if err != nil {
			f.t.Fatalf("fake server waiting for %s: %v", cmd, err)
		}
		m, err := Parse(line)
		if err != nil {
			f.t.Fatalf("client sent a malformed line %q", line)
		}
		for _, r := range refuse {
			if m.Command == r {
				f.t.Fatalf("client sent %s: %q", r, line)
			}
		}
		if m.Command == cmd {
			return m
		}
	}
}

func (f *fakeServer) send(lines ...string) {
	f.t.Helper()
	for _, l := range lines {
		if _, err := f.conn.Write([]byte(l + "\r\n")); err != nil {
			f.t.Fatal(err)
		}
	}
}

// selfSignedCA writes a certificate for 127.0.0.1 that is its own CA.
func selfSignedCA(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "irc test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, path
}

// SASL PLAIN over verified TLS, then identities from account-tag, and a
// server sending garbage, oversized and malformed lines without the
// client falling over.
func TestClient_SASLPlainOverTLS_FakeServer(t *testing.T) {
	srvTLS, caFile := selfSignedCA(t)
	f := newFakeServer(t, srvTLS)
	b := startBot(t, fast(Config{Server: f.ln.Addr().String(), TLS: true, CAFile: caFile, Nick: "klaxon", Password: "s3cret pass", Channels: []string{"#ops"}}))
	f.accept()
	f.expect("CAP")
	f.send(":fake.test CAP * LS * :multi-prefix sasl=EXTERNAL,PLAIN",
		":fake.test CAP * LS :account-tag message-tags server-time")
	nick := f.expect("NICK", "PASS")
	if nick.Param(0) != "klaxon" {
		t.Fatalf("NICK %q", nick.Params)
	}
	req := f.expect("CAP", "PASS")
	if req.Param(0) != "REQ" || req.Param(1) != "sasl message-tags account-tag server-time multi-prefix" {
		t.Fatalf("CAP %q", req.Params)
	}
	f.send(":fake.test CAP * ACK :" + req.Param(1))
	if m := f.expect("AUTHENTICATE", "PASS"); m.Param(0) != "PLAIN" {
		t.Fatalf("AUTHENTICATE %q", m.Params)
	}
	f.send("AUTHENTICATE +")
	auth := f.expect("AUTHENTICATE", "PASS")
	raw, err := base64.StdEncoding.DecodeString(auth.Param(0))
	if err != nil || string(raw) != "\x00klaxon\x00s3cret pass" {
		t.Fatalf("SASL PLAIN response %q (%v)", raw, err)
	}
	f.send(":fake.test 900 klaxon klaxon!klaxon@bot.host klaxon :You are now logged in as klaxon",
		":fake.test 903 klaxon :SASL authentication successful")
	if m := f.expect("CAP"); m.Param(0) != "END" {
		t.Fatalf("CAP %q, want END", m.Params)
	}
	f.send(":fake.test 001 klaxon :Welcome klaxon!klaxon@bot.host",
		":fake.test 005 klaxon LINELEN=600 CHANTYPES=# :are supported",
		":fake.test 376 klaxon :End of MOTD")
	if m := f.expect("JOIN"); m.Param(0) != "#ops" {
		t.Fatalf("JOIN %q", m.Params)
	}
	b.connected(t)
	if !b.HasAccounts() {
		t.Fatal("HasAccounts false on a server with SASL")
	}

	f.send(
		"@account=alice;time=2026-03-01T10:00:00.000Z;msgid=m1 :alice!a@h PRIVMSG #ops :klaxon: pages",
		":"+strings.Repeat("x", 20000)+" PRIVMSG #ops :oversized",
		"PRIVMSG #ops\x00 :nul inside",
		"@@@ ::: :::",
		"",
		":",
		":srv 005",
		":srv PRIVMSG",
		":bad!b@h PRIVMSG #ops",
		":bad!b@h PRIVMSG #ops :\x01",
		":mallory!m@h PRIVMSG #ops :klaxon: pages \xff\xfe",
		"@account :mallory!m@h NOTICE klaxon :hi",
	)
	ev := b.expect(t, "alice's message", 5*time.Second, isKind(KindMessage))
	if ev.Nick != "alice" || ev.Account != "alice" || !ev.Vouched() || ev.ID != "m1" || !ev.Time.Equal(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("alice's event %+v", ev)
	}
	ev = b.expect(t, "mallory's message", 5*time.Second, func(ev Event) bool { return ev.Kind != KindConnected })
	if ev.Nick != "mallory" || ev.Account != "" || ev.Vouched() || !ev.ServerHasAccounts || ev.Text != "klaxon: pages \uFFFD" {
		t.Fatalf("mallory's event %+v: no account, text made valid", ev)
	}
	ev = b.expect(t, "mallory's notice", 5*time.Second, func(Event) bool { return true })
	if ev.Kind != KindNotice || !ev.Private || ev.Vouched() {
		t.Fatalf("notice event %+v", ev)
	}
	if !b.Connected() {
		t.Fatal("garbage from the server disconnected the client")
	}
	// LINELEN=600 from ISUPPORT widens what one line may carry.
	long := strings.Repeat("a", 520)
	if err := b.Say(t.Context(), "#ops", long); err != nil {
		t.Fatal(err)
	}
	if m := f.expect("PRIVMSG"); m.Param(1) != long {
		t.Fatalf("with LINELEN=600, a 520-byte text was cut to %d", len(m.Param(1)))
	}
}

// Without the CA file, the fake server's certificate is refused.
func TestClient_TLSVerifiesTheServer(t *testing.T) {
	srvTLS, _ := selfSignedCA(t)
	f := newFakeServer(t, srvTLS)
	go func() {
		if conn, err := f.ln.Accept(); err == nil {
			_ = conn.(*tls.Conn).Handshake()
			_ = conn.Close()
		}
	}()
	c, err := New(Config{Server: f.ln.Addr().String(), TLS: true, Nick: "klaxon"})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.dial(t.Context())
	if err == nil {
		_ = conn.Close()
		t.Fatal("TLS to an unknown CA succeeded")
	}
	var verr *tls.CertificateVerificationError
	if !errors.As(err, &verr) {
		t.Fatalf("dial error %v, want a certificate verification error", err)
	}
}

// Where the server has no account-tag, accounts come from extended-join,
// account-notify and WHOX, and are forgotten when the nick leaves sight —
// a stranger taking the nick afterwards gets no account.
func TestClient_AccountsWithoutAccountTag_FakeServer(t *testing.T) {
	f := newFakeServer(t, nil)
	b := startBot(t, fast(Config{Server: f.ln.Addr().String(), Nick: "klaxon", Channels: []string{"#ops"}}))
	f.accept()
	f.expect("CAP")
	f.send(":fake.test CAP * LS :extended-join account-notify")
	req := f.expect("CAP")
	f.send(":fake.test CAP * ACK :" + req.Param(1))
	f.expect("CAP")
	f.send(":fake.test 001 klaxon :Welcome klaxon!k@bot.host",
		":fake.test 005 klaxon WHOX CASEMAPPING=rfc1459 :are supported",
		":fake.test 422 klaxon :No MOTD")
	f.expect("JOIN")
	f.send(":klaxon!k@bot.host JOIN #ops * :Klaxon")
	if who := f.expect("WHO"); who.Param(0) != "#ops" || who.Param(1) != "%tna,152" {
		t.Fatalf("WHO %q", who.Params)
	}
	b.connected(t)
	f.send(":fake.test 354 klaxon 152 Alice[1] alice",
		":fake.test 354 klaxon 152 carol 0",
		":bob!b@h JOIN #ops bob :Bob",
		":alice{1}!a@h PRIVMSG #ops :one",
		":bob!b@h PRIVMSG #ops :two",
		":carol!c@h PRIVMSG #ops :three",
		":carol!c@h ACCOUNT carol",
		":carol!c@h PRIVMSG #ops :four",
		":bob!b@h PART #ops",
		":bob!x@elsewhere PRIVMSG klaxon :five",
	)
	for _, want := range []struct{ text, account string }{
		{"one", "alice"}, {"two", "bob"}, {"three", ""}, {"four", "carol"}, {"five", ""},
	} {
		ev := b.expect(t, "message "+want.text, 5*time.Second, isKind(KindMessage))
		if ev.Text != want.text || ev.Account != want.account {
			t.Fatalf("event %q account %q, want %q %q", ev.Text, ev.Account, want.text, want.account)
		}
	}
	if b.HasAccounts() {
		t.Fatal("no SASL, no account-tag: HasAccounts should be false")
	}
}
