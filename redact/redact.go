// Package redact owns one promise: no full phone number, email address,
// secret or message body goes into a log line, an error text, the
// maintainers' channel or a page's timeline. Every package that writes one
// of those passes what it names through here, so the rules are written
// once and tested in one table.
package redact

import (
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/phone"
)

// Number hides all but the country code's first digit and the last four
// digits of an E.164 number: "+15551234567" becomes "+1******4567" (a short
// number keeps two). The last four are what people recognise a number by —
// alice's "…0123", the paging number's "…0100" in the simulator — and what
// a support desk asks for; the rest stays hidden. Anything that is not
// E.164 is masked whole, "" stays "".
func Number(number string) string {
	if !phone.IsE164(number) {
		if number == "" {
			return ""
		}
		return "***"
	}
	keep := 4
	if len(number)-2-keep < 4 {
		keep = 2
	}
	return number[:2] + strings.Repeat("*", len(number)-2-keep) + number[len(number)-keep:]
}

// Email keeps an address's first character and its domain:
// "alice@example.com" becomes "a***@example.com". Anything without a local
// part is masked whole, "" stays "".
func Email(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 {
		if addr == "" {
			return ""
		}
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(addr)
	return string(r) + "***" + addr[at:]
}

// Address redacts a contact address of any medium: an email address by
// Email, a phone number (SMS, voice) by Number.
func Address(addr string) string {
	if strings.Contains(addr, "@") {
		return Email(addr)
	}
	return Number(addr)
}

var (
	// numberLike is what may be a phone number inside free text, with or
	// without '+' and separators: "+1 (555) 777-0001", "15557770001".
	numberLike = regexp.MustCompile(`\+?[0-9][0-9 ().-]{6,}[0-9]`)
	// addressLike is what may be an email address inside free text.
	addressLike = regexp.MustCompile(`[^\s<>@,;:"()\[\]]+@[^\s<>@,;:"()\[\]]+`)
)

// Text hides every phone-number-like run of seven digits or more and every
// email address in s, for provider errors, server replies and library
// errors that name the people involved. Shorter runs (error codes, HTTP
// statuses) stay.
func Text(s string) string {
	s = addressLike.ReplaceAllStringFunc(s, Email)
	return numberLike.ReplaceAllStringFunc(s, func(m string) string {
		digits := make([]byte, 0, len(m))
		for i := 0; i < len(m); i++ {
			if m[i] >= '0' && m[i] <= '9' {
				digits = append(digits, m[i])
			}
		}
		if len(digits) < 7 || len(digits) > 15 {
			return m
		}
		return Number("+" + string(digits))
	})
}

// Error returns err with its text passed through Text; errors.Is and
// errors.As still see err. Nil stays nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	return &redacted{msg: Text(err.Error()), err: err}
}

// redacted keeps an error for errors.As while its text is redacted.
type redacted struct {
	msg string
	err error
}

func (e *redacted) Error() string { return e.msg }
func (e *redacted) Unwrap() error { return e.err }

// URL hides the password of a URL's credentials (a database or SMTP URL
// in the start-up printout). Text that does not parse is returned masked.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "***"
	}
	if u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
