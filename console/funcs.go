package console

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/redact"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"ago": func(t time.Time) string {
		d := time.Since(t).Round(time.Second)
		switch {
		case d < time.Minute:
			return "just now"
		case d < time.Hour:
			return plural(int(d/time.Minute), "minute") + " ago"
		case d < 48*time.Hour:
			return plural(int(d/time.Hour), "hour") + " ago"
		default:
			return plural(int(d/(24*time.Hour)), "day") + " ago"
		}
	},
	"when":     func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 15:04 MST") },
	"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"redacted": redact.Text,
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
