package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/store"
)

// Calendar export bounds: the default and largest number of weeks ahead,
// and the most events one calendar holds.
const (
	calendarWeeks    = 8
	calendarMaxWeeks = 52
	calendarMaxItems = 5000
)

// rotationCalendar is GET /api/v1/rotations/{name}.ics?weeks=N: the
// rotation's shifts for the next N weeks (overrides included) as an RFC 5545
// calendar, one event per stretch of one person on call.
func (g *Gateway) rotationCalendar(w http.ResponseWriter, r *http.Request) {
	weeks, err := rotationQueryInt(r, "weeks", calendarWeeks, 1, calendarMaxWeeks)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	now := g.Clock.Now()
	rs, err := g.Store.RotationSchedule(r.Context(), mux.Vars(r)["name"], now)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	body := rotationICS(rs, now, now.AddDate(0, 0, 7*weeks), g.calendarDomain())
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="%s.ics"`, rs.Rotation.Name))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(body))
}

// calendarDomain is the right-hand side of event UIDs: Klaxon's public host.
func (g *Gateway) calendarDomain() string {
	if u, err := url.Parse(g.Config.PublicURL); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "klaxon"
}

// rotationICS renders the rotation's schedule over [from, to) as an
// iCalendar (RFC 5545) text. Event UIDs derive from the rotation, the start
// instant and the person, so a calendar that polls the export updates
// events in place rather than duplicating them.
func rotationICS(rs store.RotationSchedule, from, to time.Time, domain string) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(foldICS(s)) }
	name := rs.Rotation.Name
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Klaxon//On-call rotations//EN")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + escapeICS("On call: "+name))
	line("X-WR-TIMEZONE:" + escapeICS(rs.Rotation.Timezone))
	stamp := from.UTC().Format(icsTime)
	for _, s := range rs.Schedule.Segments(from, to, calendarMaxItems) {
		end := s.End
		if end.IsZero() {
			// Nobody takes over: show the stint to the end of the window.
			end = to
		}
		line("BEGIN:VEVENT")
		line(fmt.Sprintf("UID:rotation-%s-%d-%s@%s", name, s.Start.Unix(), s.User, domain))
		line("DTSTAMP:" + stamp)
		line("DTSTART:" + s.Start.UTC().Format(icsTime))
		line("DTEND:" + end.UTC().Format(icsTime))
		line("SUMMARY:" + escapeICS("On call: "+name+" — "+s.User))
		line("DESCRIPTION:" + escapeICS(describeSegment(name, s)))
		line("TRANSP:TRANSPARENT")
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String()
}

// icsTime is an RFC 5545 DATE-TIME in UTC.
const icsTime = "20060102T150405Z"

func describeSegment(rotation string, s oncall.Segment) string {
	if s.Override != 0 && s.Scheduled != "" && s.Scheduled != s.User {
		return fmt.Sprintf("%s is on call for %s, covering for %s (override %d).", s.User, rotation, s.Scheduled, s.Override)
	}
	if s.Override != 0 {
		return fmt.Sprintf("%s is on call for %s (override %d).", s.User, rotation, s.Override)
	}
	return fmt.Sprintf("%s is on call for %s.", s.User, rotation)
}

// escapeICS escapes a TEXT value (RFC 5545 §3.3.11).
func escapeICS(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// foldICS ends a content line with CRLF, folding it into lines of at most
// 75 octets (RFC 5545 §3.1) without splitting a UTF-8 character.
func foldICS(s string) string {
	const max = 75
	var b strings.Builder
	width := max
	for len(s) > width {
		cut := width
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		width = max - 1 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}
