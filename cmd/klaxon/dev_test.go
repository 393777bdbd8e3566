package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
