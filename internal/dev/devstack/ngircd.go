package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// FindNgircd finds the ngircd IRC server: Debian's /usr/sbin/ngircd, else
// PATH.
func FindNgircd() (string, error) {
	if st, err := os.Stat("/usr/sbin/ngircd"); err == nil && !st.IsDir() {
		return "/usr/sbin/ngircd", nil
	}
	if p, err := exec.LookPath("ngircd"); err == nil {
		return p, nil
	}
	return "", errors.New("ngircd is not installed (apt-get install ngircd)")
}

// NgircdOptions shape a local IRC server.
type NgircdOptions struct {
	Bin string
	// Dir holds its configuration and log.
	Dir string
	// Port is the loopback port to listen on; 0 picks a free one.
	Port int
}

// Ngircd is a local IRC server on loopback.
type Ngircd struct {
	// Addr is host:port for clients.
	Addr string
	proc *child
}

// StartNgircd writes a loopback-only ngircd configuration under o.Dir,
// starts the server and waits until it accepts connections.
func StartNgircd(ctx context.Context, o NgircdOptions) (*Ngircd, error) {
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("ngircd: %w", err)
	}
	port := o.Port
	if port == 0 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("ngircd: %w", err)
		}
		port = ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
	}
	conf := fmt.Sprintf(`[Global]
	Name = irc.klaxon.local
	Info = Klaxon development IRC server
	AdminInfo1 = klaxon dev
	AdminInfo2 = loopback only
	AdminEMail = dev@localhost
	Listen = 127.0.0.1
	Ports = %d
	MotdPhrase = "Klaxon dev: join #klaxon"
	PidFile =
[Limits]
	MaxConnectionsIP = 0
[Options]
	DNS = no
	Ident = no
	PAM = no
`, port)
	path := filepath.Join(o.Dir, "ngircd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		return nil, fmt.Errorf("ngircd: %w", err)
	}
	logf, err := os.OpenFile(filepath.Join(o.Dir, "ngircd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ngircd: %w", err)
	}
	proc, err := startChild(exec.Command(o.Bin, "-n", "-f", path), logf)
	if err != nil {
		return nil, fmt.Errorf("ngircd: %w", err)
	}
	n := &Ngircd{Addr: fmt.Sprintf("127.0.0.1:%d", port), proc: proc}
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", n.Addr, time.Second)
		if err == nil {
			_ = conn.Close()
			return n, nil
		}
		select {
		case <-n.proc.done:
			return nil, fmt.Errorf("ngircd exited at start; see %s", filepath.Join(o.Dir, "ngircd.log"))
		case <-ctx.Done():
			_ = n.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = n.Stop()
			return nil, fmt.Errorf("ngircd did not listen on %s within 15s", n.Addr)
		}
	}
}

// Stop stops the server by its PID and waits for it.
func (n *Ngircd) Stop() error {
	n.proc.stop()
	return nil
}
