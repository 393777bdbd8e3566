// Package leaks finds personal data in text: phone numbers that are not
// Klaxon's own, email addresses, verification and login codes, and words
// people texted to channels. The payload-privacy tests run every Temporal
// payload through it.
package leaks

import (
	"regexp"
	"slices"
	"strings"
)

// The shapes of personal data that must never reach a Temporal payload.
var (
	e164Pattern  = regexp.MustCompile(`\+[1-9][0-9]{6,14}`)
	emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	// A code as Klaxon writes one in a message, as a person types it into
	// the API, or as a code field: six digits after "code", or read out
	// digit by digit.
	codePattern = regexp.MustCompile(`(?i)(code\W{0,4}(is\s+)?\d{6}\b|\b\d, \d, \d, \d, \d, \d\b)`)
	// Message-IDs (<…@host>) and workflow ids are not addresses.
	angled = regexp.MustCompile(`<[^<>\s]*@[^<>\s]*>`)
)

// Find describes what personal data text holds: phone numbers
// other than ours (Klaxon's own numbers, which are public), email
// addresses, codes, and any of secrets (the words people texted to
// channels). Each is named by kind and shown redacted.
func Find(text string, ours, secrets []string) []string {
	var out []string
	for _, n := range e164Pattern.FindAllString(text, -1) {
		if !slices.Contains(ours, n) {
			out = append(out, "a phone number ("+shorten(n)+")")
		}
	}
	for _, a := range emailPattern.FindAllString(angled.ReplaceAllString(text, ""), -1) {
		out = append(out, "an email address ("+shorten(a)+")")
	}
	for _, c := range codePattern.FindAllString(text, -1) {
		out = append(out, "a code ("+shorten(c)+")")
	}
	for _, s := range secrets {
		if strings.Contains(text, s) {
			out = append(out, "a channel text ("+shorten(s)+")")
		}
	}
	return out
}

// Quotable is what of a text sent to a channel a payload must not quote:
// the whole text, and what follows its first word or two (a command's
// argument, as BROADCAST and REPLY @id pass it on), when long enough to
// be words rather than a keyword.
func Quotable(body string) []string {
	body = strings.TrimSpace(body)
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if len([]rune(s)) >= 12 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	add(body)
	words := strings.Fields(body)
	for skip := 1; skip <= 2 && skip < len(words); skip++ {
		add(strings.Join(words[skip:], " "))
	}
	return out
}

func shorten(s string) string {
	r := []rune(s)
	if len(r) <= 6 {
		return "…"
	}
	return string(r[:3]) + "…" + string(r[len(r)-2:])
}
