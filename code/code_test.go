package code_test

import (
	"testing"

	"github.com/klaxonhq/klaxon/code"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"123456", "123456", true},
		{"123 456", "123456", true},
		{"123-456", "123456", true},
		{" 123456. ", "123456", true},
		{"12345", "", false},
		{"1234567", "", false},
		{"12a456", "", false},
		{"3a", "", false},
	}
	for _, tt := range tests {
		got, ok := code.Normalize(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMatcher_MatchesOnlyItsCode(t *testing.T) {
	c, salt, hash := code.New()
	if len(c) != code.Digits {
		t.Fatalf("code %q has %d digits", c, len(c))
	}
	other := "000000"
	if c == other {
		other = "111111"
	}
	if !code.Matcher(c)(salt, hash) || code.Matcher(other)(salt, hash) {
		t.Error("the matcher does not tell the code from another")
	}
}
