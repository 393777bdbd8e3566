package sms

import "strings"

// Opt-out and opt-in keywords: the carriers' standard ones, matched as the
// whole text, whatever the case.
var (
	optOutKeywords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
	optInKeywords  = []string{"START", "YES", "UNSTOP"}
)

// OptKeyword returns the opt-out or opt-in keyword a text is, if any.
func OptKeyword(body string) (keyword string, optIn, ok bool) {
	k := strings.ToUpper(strings.TrimRight(strings.TrimSpace(body), ".! "))
	for _, w := range optOutKeywords {
		if k == w {
			return w, false, true
		}
	}
	for _, w := range optInKeywords {
		if k == w {
			return w, true, true
		}
	}
	return "", false, false
}
