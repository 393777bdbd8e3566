package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/testenv"
)

// walkthroughBlocks returns the README's ```sh walkthrough blocks, in order.
func walkthroughBlocks(t *testing.T, readme string) []string {
	t.Helper()
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(readme, "\n") {
		switch {
		case cur == nil && strings.TrimSpace(line) == "```sh walkthrough":
			cur = &strings.Builder{}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if cur != nil {
		t.Fatal("README: a walkthrough block is not closed")
	}
	return blocks
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestREADME_Walkthrough runs the README's walkthrough, top to bottom, in
// one shell against a real `klaxon dev` (the binary, started as `make run`
// starts it, in a fresh directory and database): any command that exits
// non-zero fails the test. The stack listens on free ports rather than
// klaxon dev's defaults, so the walkthrough's http://localhost:8080 is
// rewritten to it and KLAXON_SIM_URL names its simulator.
func TestREADME_Walkthrough(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := walkthroughBlocks(t, string(readme))
	if len(blocks) < 5 {
		t.Fatalf("README has %d walkthrough blocks; want the whole walkthrough", len(blocks))
	}

	dir := t.TempDir()
	bin := buildKlaxon(t, dir)

	db := testenv.Postgres(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	apiURL := "http://" + ln.Addr().String()
	_ = ln.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dev := exec.CommandContext(ctx, bin, "dev")
	dev.Dir = dir
	dev.Env = append(os.Environ(),
		"DATABASE_URL="+db.URL,
		"TEMPORAL_ADDRESS="+testenv.Temporal(t),
		"KLAXON_TASK_QUEUE="+testenv.TaskQueue(t),
		"KLAXON_HTTP_ADDR="+strings.TrimPrefix(apiURL, "http://"),
		"KLAXON_PUBLIC_URL="+apiURL,
		"KLAXON_API_URL=", "KLAXON_API_TOKEN=", "KLAXON_DATA_DIR=", "KLAXON_SMTP_URL=", "TWILIO_ACCOUNT_SID=",
		"KLAXON_LOG_LEVEL=warn",
	)
	var devOut, devErr lockedBuffer
	dev.Stdout, dev.Stderr = &devOut, &devErr
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dev.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = dev.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = dev.Process.Kill()
		}
	})

	// Up when its banner names the simulator and the API answers.
	simLine := regexp.MustCompile(`Phone simulator\s+(http://\S+)`)
	var simURL string
	for simURL == "" {
		if m := simLine.FindStringSubmatch(devOut.String()); m != nil {
			simURL = m[1]
			break
		}
		if ctx.Err() != nil || dev.ProcessState != nil {
			t.Fatalf("klaxon dev did not start:\n%s\n%s", devOut.String(), devErr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		resp, err := http.Get(apiURL + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if ctx.Err() != nil {
			t.Fatalf("klaxon dev never became healthy:\n%s\n%s", devOut.String(), devErr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}

	script := "set -euo pipefail -x\n" + strings.ReplaceAll(strings.Join(blocks, "\n"), "http://localhost:8080", apiURL)
	sh := exec.CommandContext(ctx, "bash", "-c", script)
	sh.Dir = dir
	sh.Env = append(os.Environ(), "KLAXON_SIM_URL="+simURL, "KLAXON_API_URL=", "KLAXON_API_TOKEN=")
	var out lockedBuffer
	sh.Stdout, sh.Stderr = &out, &out
	if err := sh.Run(); err != nil {
		t.Fatalf("the README walkthrough failed (%v); its last lines:\n%s\n\nklaxon dev said:\n%s", err, tail(out.String(), 60), tail(devErr.String(), 30))
	}
	t.Logf("walkthrough output:\n%s", tail(out.String(), 40))
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// buildKlaxon builds the klaxon binary into dir/bin and returns its path,
// for tests that run it as its users do.
func buildKlaxon(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin", "klaxon")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
