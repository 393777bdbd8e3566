// Package phone parses phone numbers into E.164, the one form Klaxon stores,
// compares and sends to, and redacts them for logs.
package phone

import (
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/klaxonhq/klaxon"
)

// maxInputLen bounds what is handed to the parser; no real number is longer.
const maxInputLen = 64

// Normalize parses raw as a phone number, taking region (an ISO 3166 code such
// as "US") for numbers written without a country code, and returns it in
// E.164. A number that cannot be a real one is an EInvalid *klaxon.Error whose
// message says what is wrong.
func Normalize(raw, region string) (string, error) {
	s := strings.TrimSpace(raw)
	shown := quote(s)
	if s == "" {
		return "", klaxon.Errorf(klaxon.EInvalid, "A phone number is required.")
	}
	if len(s) > maxInputLen {
		return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number: it is too long.", shown)
	}
	if !strings.ContainsAny(s, "0123456789") {
		return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number. Phone numbers must include country codes prefixed by a '+'.", shown)
	}
	if !strings.HasPrefix(s, "+") && region == "" {
		return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number. Phone numbers must include country codes prefixed by a '+'.", shown)
	}
	num, err := phonenumbers.Parse(s, strings.ToUpper(region))
	if err != nil {
		return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number. Phone numbers must include country codes prefixed by a '+'.", shown)
	}
	// Possible-length numbers are accepted even where the numbering plan
	// does not assign them (fictional 555 numbers, brand-new area codes):
	// the provider is the final judge, and refusing a real number is worse
	// than one failed delivery.
	if !phonenumbers.IsValidNumber(num) {
		switch phonenumbers.IsPossibleNumberWithReason(num) {
		case phonenumbers.IS_POSSIBLE:
		case phonenumbers.TOO_SHORT:
			return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number: it is too short.", shown)
		case phonenumbers.TOO_LONG:
			return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number: it is too long.", shown)
		case phonenumbers.INVALID_COUNTRY_CODE:
			return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number: unknown country code.", shown)
		default:
			return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number.", shown)
		}
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	// A merely possible number can lose digits to national-prefix rules
	// (+358 0...), or be shorter than any phone: refuse one whose E.164
	// form would not read back as itself, so that a stored number always
	// compares equal to the same number normalised again.
	if back, err := phonenumbers.Parse(e164, ""); err != nil || phonenumbers.Format(back, phonenumbers.E164) != e164 || !IsE164(e164) {
		return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number.", shown)
	}
	return e164, nil
}

// NormalizeE164 is Normalize for input that must already carry its country
// code (a '+'), as the SMS grammar requires.
func NormalizeE164(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if !strings.HasPrefix(s, "+") {
		return "", klaxon.Errorf(klaxon.EInvalid, "%s is not a valid phone number. Phone numbers must include country codes prefixed by a '+'.", quote(s))
	}
	return Normalize(s, "")
}

// IsE164 reports whether s is already in canonical E.164 form.
func IsE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// quote shows user input back in an error, trimmed to a sane length.
func quote(s string) string {
	const max = 24
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "…"
	}
	return "'" + s + "'"
}
