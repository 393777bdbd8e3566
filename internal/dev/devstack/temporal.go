package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// TemporalCLIVersion is the version of the temporal CLI Klaxon's Makefile
// installs; it embeds the dev server and the Web UI.
const TemporalCLIVersion = "v1.5.1"

// FindTemporalCLI finds the temporal CLI: $KLAXON_TEMPORAL_CLI, then ./bin,
// then PATH, then the Go bin directory.
func FindTemporalCLI(getenv func(string) string) (string, error) {
	if p := getenv("KLAXON_TEMPORAL_CLI"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("KLAXON_TEMPORAL_CLI=%s: %w", p, err)
		}
		return p, nil
	}
	candidates := []string{filepath.Join("bin", "temporal")}
	if p, err := exec.LookPath("temporal"); err == nil {
		candidates = append(candidates, p)
	}
	if gobin := getenv("GOBIN"); gobin != "" {
		candidates = append(candidates, filepath.Join(gobin, "temporal"))
	}
	gopath := getenv("GOPATH")
	if gopath == "" {
		if home, err := os.UserHomeDir(); err == nil {
			gopath = filepath.Join(home, "go")
		}
	}
	candidates = append(candidates, filepath.Join(gopath, "bin", "temporal"))
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			abs, _ := filepath.Abs(c)
			return abs, nil
		}
	}
	return "", errors.New("the temporal CLI is not installed: run `make tools` (go install github.com/temporalio/cli/cmd/temporal@" + TemporalCLIVersion + ") or set TEMPORAL_ADDRESS")
}

// TemporalOptions configure a dev server.
type TemporalOptions struct {
	CLIPath string
	// DBFile persists workflows across restarts; empty keeps them in memory.
	DBFile string
	// UI enables the Web UI on UIPort (0: a free port).
	UI     bool
	UIPort int
	// Port is the frontend port (0: a free port).
	Port             int
	Namespace        string
	SearchAttributes []temporal.SearchAttributeKey
	// Log receives the server's own output.
	Log    io.Writer
	Logger *slog.Logger
}

// Temporal is a running dev server.
type Temporal struct {
	srv *testsuite.DevServer
	// Address is the frontend's host:port.
	Address string
	// UIURL is the Web UI's address, when enabled.
	UIURL string
}

// StartTemporal starts a Temporal dev server and waits until it answers.
func StartTemporal(ctx context.Context, o TemporalOptions) (*Temporal, error) {
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	port := o.Port
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return nil, fmt.Errorf("start temporal: %w", err)
		}
		port = p
	}
	hostPort := "127.0.0.1:" + strconv.Itoa(port)
	sa := make([]temporal.SearchAttributeUpdate, 0, len(o.SearchAttributes))
	for _, k := range o.SearchAttributes {
		sa = append(sa, keywordZero(k))
	}
	opts := testsuite.DevServerOptions{
		ExistingPath:     o.CLIPath,
		ClientOptions:    &client.Options{HostPort: hostPort, Namespace: o.Namespace, Logger: sdkLogger(o.Logger)},
		DBFilename:       o.DBFile,
		EnableUI:         o.UI,
		LogLevel:         "error",
		SearchAttributes: temporal.NewSearchAttributes(sa...),
		Stdout:           o.Log,
		Stderr:           o.Log,
	}
	t := &Temporal{Address: hostPort}
	if o.UI {
		uiPort := o.UIPort
		if uiPort == 0 {
			p, err := freePort()
			if err != nil {
				return nil, fmt.Errorf("start temporal: %w", err)
			}
			uiPort = p
		}
		opts.UIPort = strconv.Itoa(uiPort)
		t.UIURL = "http://127.0.0.1:" + opts.UIPort
	}
	if o.Log == nil {
		opts.Stdout, opts.Stderr = io.Discard, io.Discard
	}
	srv, err := testsuite.StartDevServer(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	t.srv = srv
	return t, nil
}

// Stop stops the dev server.
func (t *Temporal) Stop() error {
	if t.srv == nil {
		return nil
	}
	return t.srv.Stop()
}

// keywordZero makes a search-attribute entry for registration; only the key
// and its type matter to the dev server.
func keywordZero(k temporal.SearchAttributeKey) temporal.SearchAttributeUpdate {
	if kw, ok := k.(temporal.SearchAttributeKeyKeyword); ok {
		return kw.ValueSet("")
	}
	panic("devstack: only keyword search attributes are registered here: " + k.GetName())
}
