package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DendriteVersion is the version of the Dendrite homeserver Klaxon's
// Makefile installs, with its generate-keys, generate-config and
// create-account tools beside it.
const DendriteVersion = "v0.13.8"

// dendriteTools are the programs StartDendrite runs, all in one directory.
var dendriteTools = []string{"dendrite", "generate-keys", "generate-config", "create-account"}

// FindDendrite finds the directory holding Dendrite and its tools:
// $KLAXON_DENDRITE (the dendrite binary), then bin/ of this checkout (the
// working directory or the nearest parent with a go.mod), then PATH.
func FindDendrite(getenv func(string) string) (string, error) {
	var candidates []string
	if p := getenv("KLAXON_DENDRITE"); p != "" {
		candidates = append(candidates, filepath.Dir(p))
	}
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(dir, "bin"))
				break
			}
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if p, err := exec.LookPath("dendrite"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, dir := range candidates {
		if hasAll(dir) {
			abs, _ := filepath.Abs(dir)
			return abs, nil
		}
	}
	return "", errors.New("dendrite is not installed: run `make tools` (go install github.com/matrix-org/dendrite/cmd/{dendrite,generate-keys,generate-config,create-account}@" + DendriteVersion + ", with cgo)")
}

func hasAll(dir string) bool {
	for _, t := range dendriteTools {
		if st, err := os.Stat(filepath.Join(dir, t)); err != nil || st.IsDir() {
			return false
		}
	}
	return true
}

// DendriteAccount is an account created on the homeserver at start.
type DendriteAccount struct {
	Localpart, Password string
}

// DendriteOptions configure a homeserver.
type DendriteOptions struct {
	// BinDir holds dendrite and its tools (FindDendrite).
	BinDir string
	// Dir holds the config, the signing key and the sqlite databases; a
	// directory that already holds them is reused, accounts included.
	Dir string
	// Port is the client API port on 127.0.0.1 (0: a free port).
	Port int
	// Accounts are created once (an existing one is left as it is).
	Accounts []DendriteAccount
	// RateLimit turns on the homeserver's rate limiting (a burst of
	// Threshold requests, then one per Cooloff), which CI configs disable.
	RateLimit bool
	Threshold int
	Cooloff   time.Duration
}

// Dendrite is a running homeserver, without federation, on loopback.
type Dendrite struct {
	proc *child
	// URL is the client API's base URL.
	URL string
	// ServerName is the homeserver's name, the part of user ids after ':'.
	ServerName string
	// LogFile is where the homeserver writes.
	LogFile string
}

// UserID is the Matrix id of an account on this homeserver.
func (d *Dendrite) UserID(localpart string) string { return "@" + localpart + ":" + d.ServerName }

// StartDendrite writes a config (federation off, sqlite, registration
// closed but for the shared secret the account tool uses), starts the
// homeserver, waits until it answers, and creates the accounts.
func StartDendrite(ctx context.Context, o DendriteOptions) (*Dendrite, error) {
	// Dendrite runs in its own directory: every path it is given must be
	// absolute (klaxon dev's data directory is relative by default).
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("start dendrite: %w", err)
	}
	o.Dir = dir
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("start dendrite: %w", err)
	}
	port := o.Port
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("start dendrite: %w", err)
		}
		port = p
	}
	confPath, err := writeDendriteConfig(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("start dendrite: %w", err)
	}
	d := &Dendrite{
		URL:        "http://127.0.0.1:" + strconv.Itoa(port),
		ServerName: "localhost",
		LogFile:    filepath.Join(o.Dir, "dendrite.log"),
	}
	logf, err := os.Create(d.LogFile)
	if err != nil {
		return nil, fmt.Errorf("start dendrite: %w", err)
	}
	cmd := exec.Command(filepath.Join(o.BinDir, "dendrite"), "-config", confPath,
		"-http-bind-address", "127.0.0.1:"+strconv.Itoa(port))
	cmd.Dir = o.Dir
	if d.proc, err = startChild(cmd, logf); err != nil {
		return nil, fmt.Errorf("start dendrite: %w", err)
	}
	if err := d.waitReady(ctx); err != nil {
		_ = d.Stop()
		return nil, fmt.Errorf("start dendrite: %w (%s)", err, lastLine(d.LogFile))
	}
	for _, a := range o.Accounts {
		if err := d.createAccount(ctx, o.BinDir, confPath, a); err != nil {
			_ = d.Stop()
			return nil, fmt.Errorf("start dendrite: %w", err)
		}
	}
	return d, nil
}

func (d *Dendrite) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/_matrix/client/versions", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-d.proc.done:
			return errors.New("the homeserver exited")
		case <-ctx.Done():
			return fmt.Errorf("the homeserver did not answer on %s", d.URL)
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func (d *Dendrite) createAccount(ctx context.Context, binDir, confPath string, a DendriteAccount) error {
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "create-account"), "-config", confPath,
		"-url", d.URL, "-username", a.Localpart, "-passwordstdin")
	cmd.Stdin = strings.NewReader(a.Password)
	out, err := cmd.CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("M_USER_IN_USE")) {
		return fmt.Errorf("create account %s: %w: %s", a.Localpart, err, bytes.TrimSpace(out))
	}
	return nil
}

// Stop ends the homeserver (its process group, by PID) and waits for it.
func (d *Dendrite) Stop() error {
	d.proc.stop()
	return nil
}

// writeDendriteConfig makes the signing key and the config once, from
// generate-config's CI defaults with federation off, registration closed,
// quiet logs and everything under o.Dir. The key (and so the databases)
// of an earlier start in o.Dir are kept.
func writeDendriteConfig(ctx context.Context, o DendriteOptions) (string, error) {
	confPath := filepath.Join(o.Dir, "dendrite.yaml")
	keyPath := filepath.Join(o.Dir, "matrix_key.pem")
	if _, err := os.Stat(keyPath); err != nil {
		out, err := exec.CommandContext(ctx, filepath.Join(o.BinDir, "generate-keys"), "--private-key", keyPath).CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("generate keys: %w: %s", err, bytes.TrimSpace(out))
		}
	}
	var stderr bytes.Buffer
	gen := exec.CommandContext(ctx, filepath.Join(o.BinDir, "generate-config"), "-ci", "-dir", o.Dir, "-server", "localhost")
	gen.Stderr = &stderr
	raw, err := gen.Output()
	if err != nil {
		return "", fmt.Errorf("generate config: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	threshold, cooloff := o.Threshold, o.Cooloff
	if threshold == 0 {
		threshold = 5
	}
	if cooloff == 0 {
		cooloff = 500 * time.Millisecond
	}
	conf := string(raw)
	for _, r := range []struct{ from, to string }{
		{"private_key: matrix_key.pem", "private_key: " + keyPath},
		{"disable_federation: false", "disable_federation: true"},
		{"registration_disabled: false", "registration_disabled: true"},
		{"  trusted_third_party_id_servers:\n  - matrix.org\n  - vector.im\n", "  trusted_third_party_id_servers: []\n"},
		{"level: trace", "level: warn"},
		{"    enabled: false\n    threshold: 5\n    cooloff_ms: 500\n",
			fmt.Sprintf("    enabled: %t\n    threshold: %d\n    cooloff_ms: %d\n", o.RateLimit, threshold, cooloff.Milliseconds())},
	} {
		if !strings.Contains(conf, r.from) {
			return "", fmt.Errorf("generate config: dendrite %s's config has no %q to change", DendriteVersion, r.from)
		}
		conf = strings.Replace(conf, r.from, r.to, 1)
	}
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		return "", err
	}
	return confPath, nil
}

func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log"
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
