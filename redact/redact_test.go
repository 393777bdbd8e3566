package redact_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/klaxonhq/klaxon/redact"
)

// TestRedact is the one table of every redaction rule Klaxon has.
func TestRedact(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"number", redact.Number, "+15555550123", "+1******0123"},
		{"short number", redact.Number, "+4412345", "+4****45"},
		{"not a number", redact.Number, "alice", "***"},
		{"no number", redact.Number, "", ""},
		{"email", redact.Email, "alice@example.com", "a***@example.com"},
		{"email, multibyte first letter", redact.Email, "élodie@example.fr", "é***@example.fr"},
		{"email without local part", redact.Email, "@example.com", "***"},
		{"not an email", redact.Email, "alice", "***"},
		{"no email", redact.Email, "", ""},
		{"address: email", redact.Address, "bob@example.com", "b***@example.com"},
		{"address: number", redact.Address, "+15555550123", "+1******0123"},
		{"address: empty", redact.Address, "", ""},
		{"text: E.164", redact.Text, "pool unreachable for +15557770001", "pool unreachable for +1******0001"},
		{"text: spaced number", redact.Text, "buy number: (21422) +1 555 777 0001 is not available",
			"buy number: (21422) +1******0001 is not available"},
		{"text: number without +", redact.Text, "The 'To' number 15557770001 is not valid", "The 'To' number +1******0001 is not valid"},
		{"text: email", redact.Text, "550 5.1.1 <alice@example.com>: unknown user", "550 5.1.1 <a***@example.com>: unknown user"},
		{"text: both", redact.Text, "alice@example.com +15557770001", "a***@example.com +1******0001"},
		{"text: status codes stay", redact.Text, "http 503, error code 21422", "http 503, error code 21422"},
		{"text: empty", redact.Text, "", ""},
		{"url: password", redact.URL, "postgres://klaxon:s3cret@db:5432/klaxon", "postgres://klaxon:xxxxx@db:5432/klaxon"},
		{"url: no password", redact.URL, "smtp://mail:25?tls=none", "smtp://mail:25?tls=none"},
		{"url: empty", redact.URL, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.fn(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestError_RedactsTextKeepsChain(t *testing.T) {
	if redact.Error(nil) != nil {
		t.Fatal("Error(nil) is not nil")
	}
	base := &fs.PathError{Op: "send", Path: "+15557770001", Err: fs.ErrNotExist}
	err := redact.Error(base)
	if got, want := err.Error(), "send +1******0001: file does not exist"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var pe *fs.PathError
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrNotExist) {
		t.Error("the redacted error lost its chain")
	}
}
