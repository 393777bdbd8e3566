package phone

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		name, in, region, want, err string
	}{
		{"e164 stays", "+12025550123", "US", "+12025550123", ""},
		{"national with region", "(202) 555-0123", "US", "+12025550123", ""},
		{"spaces and dashes", "+44 7911 123-456", "US", "+447911123456", ""},
		{"fictional 555 accepted", "+15555550100", "US", "+15555550100", ""},
		{"letters", "ABC", "US", "", "'ABC' is not a valid phone number. Phone numbers must include country codes prefixed by a '+'."},
		{"too short", "+1555123412", "US", "", "too short"},
		{"too long", "+1202555012345678", "US", "", "not a valid phone number"},
		{"empty", "  ", "US", "", "A phone number is required."},
		{"no region no plus", "2025550123", "", "", "must include country codes"},
		{"huge input", strings.Repeat("9", 100), "US", "", "too long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Normalize(c.in, c.region)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Normalize(%q) = %q, %v; want error containing %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestNormalizeE164_RequiresCountryCode(t *testing.T) {
	if _, err := NormalizeE164("2025550123"); err == nil {
		t.Fatal("a number without '+' was accepted")
	}
	if got, err := NormalizeE164(" +12025550123"); err != nil || got != "+12025550123" {
		t.Fatalf("got %q, %v", got, err)
	}
}
