package main

import (
	"bytes"
	"errors"
	"flag"
	"testing"
)

// Every command answers --help with how to use it, exits 0, and touches
// nothing: no API token or server is needed to ask.
func TestCLI_EveryCommandAnswersHelp(t *testing.T) {
	noEnv := func(string) string { return "" }
	for name := range commands() {
		for _, help := range []string{"--help", "-h", "help"} {
			var out, errb bytes.Buffer
			err := run(t.Context(), []string{name, help}, noEnv, &out, &errb)
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
