package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

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
