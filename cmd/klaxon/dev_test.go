package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/client"
)

func TestDevDefaults_TokenSurvivesRestartsAndGatewayStaysOnLoopback(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KLAXON_DATA_DIR": dir}
	getenv := func(k string) string { return env[k] }
	first, err := devDefaults(getenv)
	if err != nil {
		t.Fatal(err)
	}
	tok := first("KLAXON_API_TOKEN")
	if !strings.HasPrefix(tok, "dev-") {
		t.Fatalf("token %q", tok)
	}
	st, err := os.Stat(filepath.Join(dir, devTokenFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v %v", st, err)
	}
	again, err := devDefaults(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if again("KLAXON_API_TOKEN") != tok {
		t.Errorf("token changed across restarts: %q then %q", tok, again("KLAXON_API_TOKEN"))
	}
	if a := first("KLAXON_HTTP_ADDR"); a != "127.0.0.1:8080" {
		t.Errorf("dev listens on %q, want loopback", a)
	}
	// What the environment says wins.
	env["KLAXON_API_TOKEN"], env["KLAXON_HTTP_ADDR"] = "mine", ":9000"
	set, err := devDefaults(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if set("KLAXON_API_TOKEN") != "mine" || set("KLAXON_HTTP_ADDR") != ":9000" {
		t.Error("the environment did not win")
	}
}

func TestDemo_SeedsEverythingAndAPageEscalatesOnTheRotation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for _, n := range []string{"+15555550110", "+15555550111", "+15555550112"} {
		h.sim.AddIncomingNumber(n, h.baseURL+"/twilio/sms")
	}
	cl, err := client.New(h.baseURL, hToken)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := seedDemo(context.Background(), h.store, cl, &out); err != nil {
		t.Fatalf("seed: %v\n%s", err, out.String())
	}
	for _, want := range []string{"rotation   ops", "service    api", "key kxi_", "#1 \"demo: the database is down\""} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	h.waitText("+15555550123", "demo: the database is down")
	var oncall struct {
		User string `json:"user"`
	}
	if code := h.api(http.MethodGet, "/api/v1/rotations/ops/oncall", nil, &oncall); code != http.StatusOK || oncall.User != "alice" {
		t.Errorf("on call: %d %+v", code, oncall)
	}
	// Seeding again adds nothing.
	out.Reset()
	if err := seedDemo(context.Background(), h.store, cl, &out); err != nil || !strings.Contains(out.String(), "already seeded") {
		t.Errorf("second seed: %v %q", err, out.String())
	}
}

// klaxon dev makes a code pepper once and keeps it beside the API token,
// so that codes issued before a restart still verify after it.
func TestDevDefaults_CodePepperIsMadeOnceAndKept(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KLAXON_DATA_DIR": dir}
	getenv := func(k string) string { return env[k] }
	first, err := devDefaults(getenv)
	if err != nil {
		t.Fatal(err)
	}
	p := first("KLAXON_CODE_PEPPER")
	if len(p) < 16 {
		t.Fatalf("pepper %q is too short", p)
	}
	st, err := os.Stat(filepath.Join(dir, devPepperFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("pepper file: %v %v", st, err)
	}
	again, err := devDefaults(getenv)
	if err != nil || again("KLAXON_CODE_PEPPER") != p {
		t.Errorf("pepper changed across restarts (%v)", err)
	}
	env["KLAXON_CODE_PEPPER"] = "mine-0123456789abcdef"
	if set, _ := devDefaults(getenv); set("KLAXON_CODE_PEPPER") != "mine-0123456789abcdef" {
		t.Error("the environment did not win")
	}
}
