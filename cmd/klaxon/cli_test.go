package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

// commandPaths lists every command and subcommand of the CLI, such as
// "rotation override add".
func commandPaths(t *testing.T) []string {
	t.Helper()
	var grammar cli
	p, err := newParser(&grammar, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(n *kong.Node, prefix []string)
	walk = func(n *kong.Node, prefix []string) {
		for _, c := range n.Children {
			path := append(append([]string{}, prefix...), c.Name)
			out = append(out, strings.Join(path, " "))
			walk(c, path)
		}
	}
	walk(p.Model.Node, nil)
	return out
}

// Every command answers --help with how to use it, exits 0, and touches
// nothing: no API token or server is needed to ask.
func TestCLI_EveryCommandAnswersHelp(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, name := range append(commandPaths(t), "") {
		for _, help := range []string{"--help", "-h", "help"} {
			var out, errb bytes.Buffer
			args := append(strings.Fields(name), help)
			err := run(t.Context(), args, noEnv, &out, &errb)
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("klaxon %s %s: %v", name, help, err)
				continue
			}
			if out.Len()+errb.Len() == 0 {
				t.Errorf("klaxon %s %s printed nothing", name, help)
			}
		}
	}
}

func TestCLI_DurationsReadAsWords(t *testing.T) {
	cases := []struct {
		d           time.Duration
		human, spec string
	}{
		{5 * time.Minute, "5 minutes", "5m"},
		{90 * time.Second, "1 minute 30 seconds", "1m30s"},
		{time.Hour, "1 hour", "1h"},
		{26 * time.Hour, "1 day 2 hours", "26h"},
		{time.Second, "1 second", "1s"},
		{0, "0 seconds", "0s"},
		{15 * time.Millisecond, "15ms", "15ms"},
	}
	for _, tc := range cases {
		if got := humanDuration(tc.d); got != tc.human {
			t.Errorf("humanDuration(%v) = %q, want %q", tc.d, got, tc.human)
		}
		if got := compactDuration(tc.d); got != tc.spec {
			t.Errorf("compactDuration(%v) = %q, want %q", tc.d, got, tc.spec)
		}
	}
}

// "help" asks for help only where a command's name would be; as a value it
// is a value.
func TestCLI_HelpWordOnlyInACommandsPlace(t *testing.T) {
	noEnv := func(string) string { return "" }
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"message", "send", "--to", "+15555550123", "--body", "help"}, noEnv, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "KLAXON_API_TOKEN") {
		t.Errorf("message send --body help: %v (stdout %q); want it to try to send", err, out.String())
	}
	out.Reset()
	if err := run(t.Context(), []string{"help", "rotation"}, noEnv, &out, &errb); err != nil || !strings.Contains(out.String(), "rotation override") {
		t.Errorf("help rotation: %v %q", err, out.String())
	}
}

// A mistake in the command line is a usageError (exit 2) in one line that
// names the command's help.
func TestCLI_MistakesAreOneLineUsageErrors(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, args := range [][]string{
		{"bogus"},
		{"page", "--target", "user:alice"},
		{"ack", "abc"},
		{"rotation", "add", "x", "--timezone", "UTC", "--members", "a"},
		{"channel", "create"},
		{"page", "list", "--limit", "many"},
	} {
		var out, errb bytes.Buffer
		err := run(t.Context(), args, noEnv, &out, &errb)
		var ue usageError
		if !errors.As(err, &ue) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--help") {
			t.Errorf("klaxon %s: %v (%T), want a one-line usage error", strings.Join(args, " "), err, err)
		}
	}
}
