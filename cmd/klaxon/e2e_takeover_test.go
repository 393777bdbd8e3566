package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

// klaxonProcess is one `klaxon serve`, run as an operator runs it.
type klaxonProcess struct {
	cmd      *exec.Cmd
	url      string
	out, err lockedBuffer
}

func (p *klaxonProcess) logs() string { return p.out.String() + p.err.String() }

// startServe starts `klaxon serve` with env and waits until it is healthy.
func startServe(t *testing.T, bin string, env []string) *klaxonProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	p := &klaxonProcess{url: "http://" + addr}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = append(append(os.Environ(), env...), "KLAXON_HTTP_ADDR="+addr, "KLAXON_PUBLIC_URL="+p.url)
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.err
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("klaxon serve never became healthy:\n%s\n%s", p.out.String(), p.err.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestE2E_ChatTakeoverWhenTheHolderIsKilled runs two `klaxon serve`
// processes against one database, one Temporal and a real ngircd. The
// first holds the bot's connection; it is killed outright (SIGKILL: no
// shutdown, no unlock). Postgres frees its lock with its session, and the
// second process takes the connection over within seconds and answers.
func TestE2E_ChatTakeoverWhenTheHolderIsKilled(t *testing.T) {
	ircd := testenv.StartNgircd(t, testenv.IRCOptions{})
	db := testenv.Postgres(t)
	bin := buildKlaxon(t, t.TempDir())
	env := []string{
		"DATABASE_URL=" + db.URL,
		"TEMPORAL_ADDRESS=" + testenv.Temporal(t),
		"KLAXON_TASK_QUEUE=" + testenv.TaskQueue(t),
		"KLAXON_API_TOKEN=takeover-test-token",
		"KLAXON_IRC_SERVER=" + ircd.Addr,
		"KLAXON_IRC_CHANNELS=#klaxon",
		"KLAXON_IRC_TRUST_NICKS=true",
		"KLAXON_LOG_LEVEL=info",
		"KLAXON_API_URL=", "KLAXON_DATA_DIR=", "KLAXON_SMTP_URL=", "TWILIO_ACCOUNT_SID=",
	}
	ctx := context.Background()
	if _, err := db.Store.CreateUser(ctx, store.User{Handle: "joe", Name: "Joe Bloggs", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}

	first := startServe(t, bin, env)
	joe := joinIRC(t, ircd.Addr, "joe")
	waitFor(t, "joe on IRC", 30*time.Second, joe.c.Connected)
	joe.say(t, "#klaxon", "klaxon: poke joe")
	joe.hear(t, "joe: joe is Joe Bloggs")

	second := startServe(t, bin, env)
	// The standby waits: only one process holds the connection.
	waitFor(t, "the second process standing by", 30*time.Second, func() bool {
		return strings.Contains(second.logs(), "standing by")
	})
	if strings.Contains(second.logs(), "holding the chat connection") {
		t.Fatalf("the second process holds the connection while the first does:\n%s", second.logs())
	}

	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	killed := time.Now()
	answered := func() bool {
		joe.say(t, "#klaxon", "klaxon: poke joe")
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if n := len(joe.heardAll("joe: joe is Joe Bloggs")); n >= 2 {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
		return false
	}
	waitFor(t, "the second process to answer in #klaxon", 30*time.Second, answered)
	took := time.Since(killed)
	t.Logf("taken over %s after the holder was killed", took.Round(time.Millisecond))
	if !strings.Contains(second.logs(), "holding the chat connection") {
		t.Errorf("the answer did not come from the second process:\n%s", second.logs())
	}
	if took > 15*time.Second {
		t.Errorf("the second process took %s to take over; want seconds", took)
	}
}

// waitFor polls cond until it holds or within passes.
func waitFor(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
