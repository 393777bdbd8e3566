package integration

import (
	"strings"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon"
)

// Page events a subscription can ask for.
const (
	EventOpened   = "opened"
	EventAcked    = "acked"
	EventResolved = "resolved"
)

// When says which page events a subscription wants; an empty field matches
// anything.
type When struct {
	Service  string `json:"service,omitempty"`
	Target   string `json:"target,omitempty"`
	Event    string `json:"event,omitempty"`
	Contains string `json:"contains,omitempty"`
}

// Subscription is Herald's "send me an SMS when …": the rule and the
// medium of the FYI.
type Subscription struct {
	When When `json:"when"`
	// Then is "sms", "email" or "call" (a call reads the page aloud).
	Then string `json:"then"`
}

// Check normalises and validates a subscription.
func (s *Subscription) Check() error {
	w := &s.When
	w.Service = strings.TrimSpace(w.Service)
	w.Target = strings.TrimSpace(w.Target)
	w.Event = strings.ToLower(strings.TrimSpace(w.Event))
	w.Contains = strings.TrimSpace(w.Contains)
	s.Then = strings.ToLower(strings.TrimSpace(s.Then))
	switch {
	case s.Then != "sms" && s.Then != "email" && s.Then != "call":
		return klaxon.Errorf(klaxon.EInvalid, `Field "then" must be "sms", "email" or "call".`)
	case w.Event != "" && w.Event != EventOpened && w.Event != EventAcked && w.Event != EventResolved:
		return klaxon.Errorf(klaxon.EInvalid, `Field "when.event" must be "opened", "acked" or "resolved".`)
	case w.Service != "" && ValidServiceName(w.Service) != nil:
		return ValidServiceName(w.Service)
	case utf8.RuneCountInString(w.Contains) > 200:
		return klaxon.Errorf(klaxon.EInvalid, `Field "when.contains" is longer than 200 characters.`)
	case strings.ContainsRune(w.Contains, 0) || !utf8.ValidString(w.Contains):
		return klaxon.Errorf(klaxon.EInvalid, `Field "when.contains" must be UTF-8 text without NUL bytes.`)
	}
	return nil
}

// Medium is the delivery medium of the FYI.
func (s Subscription) Medium() klaxon.Medium {
	if s.Then == "call" {
		return klaxon.Voice
	}
	return klaxon.Medium(s.Then)
}

// PageEvent is what a subscription is matched against.
type PageEvent struct {
	Event   string
	Service string
	Target  string
	Summary string
	Details string
}

// Matches reports whether the page event is one the subscriber asked for.
// "contains" is a case-insensitive word or phrase of the summary or details.
func (w When) Matches(e PageEvent) bool {
	switch {
	case w.Event != "" && w.Event != e.Event:
		return false
	case w.Service != "" && w.Service != e.Service:
		return false
	case w.Target != "" && !strings.EqualFold(w.Target, e.Target):
		return false
	case w.Contains != "":
		needle := strings.ToLower(w.Contains)
		return strings.Contains(strings.ToLower(e.Summary), needle) || strings.Contains(strings.ToLower(e.Details), needle)
	}
	return true
}
