package phone_test

import (
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
)

// FuzzNormalize feeds arbitrary text and regions to Normalize: it never
// panics; what it accepts is E.164, normalises to itself, and redacts to
// something that hides the number; what it refuses is an EInvalid error with
// one sentence that names the input.
//
//	go test ./phone -run '^$' -fuzz FuzzNormalize -fuzztime 60s
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"+15555550123", "(555) 555-0123", "555.555.0123 ext. 9", "+44 7700 900123", "0044 7700 900123",
		"abc", "", "+", "+0", "+1555", "+999999999999999999", "١٢٣٤٥٦٧٨٩٠", "+1 555 555 0123\n", "tel:+15555550123",
		strings.Repeat("9", 80),
	} {
		f.Add(s, "US")
		f.Add(s, "")
	}
	f.Add("07700 900123", "GB")
	f.Add("123", "ZZ")
	f.Fuzz(func(t *testing.T, raw, region string) {
		n, err := phone.Normalize(raw, region)
		if err != nil {
			if klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
				t.Fatalf("Normalize(%q, %q) refused with %v, not EInvalid", raw, region, err)
			}
			if msg := klaxon.ErrorMessageOf(err); !strings.HasSuffix(msg, ".") {
				t.Fatalf("refusal %q is not a sentence", msg)
			}
			return
		}
		if !phone.IsE164(n) {
			t.Fatalf("Normalize(%q, %q) = %q, not E.164", raw, region, n)
		}
		again, err := phone.Normalize(n, "")
		if err != nil || again != n {
			t.Fatalf("Normalize(%q) = %q, %v; want it unchanged", n, again, err)
		}
		if e, err := phone.NormalizeE164(n); err != nil || e != n {
			t.Fatalf("NormalizeE164(%q) = %q, %v", n, e, err)
		}
		if r := redact.Number(n); strings.Contains(r, n[2:len(n)-2]) && len(n) > 6 {
			t.Fatalf("Redact(%q) = %q shows the number", n, r)
		}
	})
}
