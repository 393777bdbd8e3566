package directory

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/store"
)

// handlePattern is the users.handle CHECK constraint of the schema.
var handlePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// nickPattern is a chat nick as the API accepts one: RFC 2812 letters,
// digits and "[]\`_^{|}-" plus '.', not starting with a digit or '-'.
var nickPattern = regexp.MustCompile("^[A-Za-z\\[\\]\\\\`_^{|}][A-Za-z0-9\\[\\]\\\\`_^{|}.-]{0,31}$")

// person normalises one entry: the handle lowercased, the name on one
// line, the nick checked, the mobile in E.164, the mail parsed, the
// timezone an IANA name. A field that cannot be taken is left out and
// reported; an entry without a usable handle is skipped whole (ok false).
func person(e Entry, cfg Config) (p store.DirectoryPerson, skips []Skip, ok bool) {
	p.DN = e.DN
	m := cfg.Mapping
	raw := e.value(m.Handle)
	if raw == "" {
		return p, []Skip{{DN: e.DN, Reason: fmt.Sprintf("The entry has no %s, so it has no handle.", m.Handle)}}, false
	}
	p.Handle = strings.ToLower(raw)
	if !handlePattern.MatchString(p.Handle) {
		return p, []Skip{{DN: e.DN, Reason: fmt.Sprintf("%s %q cannot be a handle: use 1 to 32 letters, digits, '_', '.' or '-', starting with a letter or digit.", m.Handle, clip(raw, 40))}}, false
	}
	note := func(field, reason string) {
		skips = append(skips, Skip{DN: e.DN, Handle: p.Handle, Field: field, Reason: reason})
	}

	p.Name = oneLine(e.value(m.Name))
	if p.Name == "" {
		p.Name = p.Handle
	}
	if utf8.RuneCountInString(p.Name) > 200 {
		p.Name = string([]rune(p.Name)[:200])
	}

	p.Nick = p.Handle
	if nick := e.value(m.Nick); nick != "" && nick != p.Handle {
		if nickPattern.MatchString(nick) {
			p.Nick = nick
		} else {
			note("nick", fmt.Sprintf("%q is not a valid chat nick; the handle stands in.", clip(nick, 40)))
		}
	}

	if mobile := e.value(m.Mobile); mobile != "" {
		n, err := phone.Normalize(mobile, cfg.Region)
		if err != nil {
			note("mobile", numberProblem(err))
		} else {
			p.Phone = n
		}
	}

	if addr := e.value(m.Email); addr != "" {
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") || len(a.Address) > 254 {
			note("email", "The mail is not an email address.")
		} else {
			p.Email = a.Address
		}
	}

	p.Timezone = cfg.DefaultTimezone
	if p.Timezone == "" {
		p.Timezone = "UTC"
	}
	if tz := e.value(m.Timezone); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil || tz == "Local" || len(tz) > 64 {
			note("timezone", fmt.Sprintf("%q is not an IANA timezone; %s stands in.", clip(tz, 40), p.Timezone))
		} else {
			p.Timezone = tz
		}
	}
	return p, skips, true
}

// numberProblem says what is wrong with a number without quoting it: the
// report reaches people who should not see a colleague's number.
func numberProblem(err error) string {
	msg := klaxon.ErrorMessageOf(err)
	if _, rest, ok := strings.Cut(msg, " is not a valid phone number"); ok {
		rest = strings.TrimPrefix(rest, ".")
		rest = strings.TrimSpace(strings.TrimPrefix(rest, ":"))
		if rest == "" || strings.HasPrefix(rest, "Phone numbers must include") {
			return "The mobile is not a phone number Klaxon can dial: it needs a country code ('+'), or KLAXON_DEFAULT_REGION must be its country."
		}
		return "The mobile is not a valid phone number: " + rest
	}
	return "The mobile is not a valid phone number."
}

// oneLine collapses whitespace and drops control characters.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// clip shortens s for a report.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
