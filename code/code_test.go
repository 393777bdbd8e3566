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

// Codes are hashed under the first pepper (a server-side secret the
// database does not hold), and checked under every pepper, so that a
// pepper can be rotated: the new one first, the old one still accepted.
// A hash made before any pepper still matches.
func TestPeppers_HashUnderTheFirstAndMatchUnderAny(t *testing.T) {
	oldP, err := code.ParsePeppers("old-pepper-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := code.ParsePeppers("new-pepper-0123456789, old-pepper-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := code.ParsePeppers("another-pepper-0123456")
	c, salt, hash := oldP.New()
	if string(hash) == string(code.Hash(salt, c)) {
		t.Fatal("a peppered hash equals the salt-only one: the pepper is not used")
	}
	if !oldP.Matcher(c)(salt, hash) || !rotated.Matcher(c)(salt, hash) {
		t.Error("a code hashed under the old pepper does not match during the rotation")
	}
	if other.Matcher(c)(salt, hash) || code.Matcher(c)(salt, hash) {
		t.Error("a peppered hash matches without its pepper")
	}
	c2, salt2, hash2 := rotated.New()
	if oldP.Matcher(c2)(salt2, hash2) || !rotated.Matcher(c2)(salt2, hash2) {
		t.Error("a new code is not hashed under the first pepper")
	}
	legacy, lsalt, lhash := code.New()
	if !rotated.Matcher(legacy)(lsalt, lhash) {
		t.Error("a hash made before peppers no longer matches")
	}
	for _, bad := range []string{"short", "ok-pepper-0123456789,,", " , "} {
		if _, err := code.ParsePeppers(bad); err == nil {
			t.Errorf("ParsePeppers(%q) accepted", bad)
		}
	}
	if p, err := code.ParsePeppers(""); err != nil || len(p) != 0 {
		t.Errorf("no pepper: %v, %v", p, err)
	}
}
