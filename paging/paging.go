// Package paging is the paging domain, with no I/O: whom a page is for
// (targets), the states a page moves through, how people are reached
// (notification rules) and whether they can be. store maps its rows to
// these types; workflows, activities and the gateway share them.
package paging

import (
	"regexp"
	"strings"

	"github.com/klaxonhq/klaxon"
)

// Page statuses.
const (
	StatusOpen     = "open"
	StatusAcked    = "acked"
	StatusResolved = "resolved"
)

// Page modes and urgencies.
const (
	ModeEscalate = "escalate"
	ModeBlast    = "blast"
	UrgencyHigh  = "high"
	UrgencyLow   = "low"
)

// MaxDelaySeconds bounds every delay of paging: a policy step's, a
// notification rule's, a page's escalate_after_seconds. The schema also
// enforces it.
const MaxDelaySeconds = 86400

// Kinds of page target.
const (
	TargetUser     = "user"
	TargetRotation = "rotation"
	TargetPolicy   = "policy"
)

// Target is whom a page or an escalation step is for: "user:alice",
// "rotation:ops" or "policy:db". Targets are names, resolved to people when
// a step fires.
type Target struct {
	Kind string
	Name string
}

// String returns the target as written: kind:name.
func (t Target) String() string { return t.Kind + ":" + t.Name }

var targetName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ValidName reports whether name can name a target (a handle, a rotation,
// a policy): lowercase letters, digits, '.', '_' and '-', up to 64.
func ValidName(name string) bool { return targetName.MatchString(name) }

// ParseTarget reads "kind:name". Its errors are EInvalid, in words a person
// can act on.
func ParseTarget(s string) (Target, error) {
	s = strings.TrimSpace(s)
	kind, name, ok := strings.Cut(s, ":")
	kind = strings.ToLower(kind)
	if !ok || name == "" {
		return Target{}, klaxon.Errorf(klaxon.EInvalid, `Target %q must be "user:HANDLE", "rotation:NAME" or "policy:NAME".`, clip(s, 70))
	}
	switch kind {
	case TargetUser, TargetRotation, TargetPolicy:
	default:
		return Target{}, klaxon.Errorf(klaxon.EInvalid, `Unknown target kind %q: use "user:HANDLE", "rotation:NAME" or "policy:NAME".`, clip(kind, 20))
	}
	if !targetName.MatchString(name) {
		return Target{}, klaxon.Errorf(klaxon.EInvalid, "%q is not a valid %s name: use lowercase letters, digits, '.', '_' and '-' (up to 64).", clip(name, 70), kind)
	}
	return Target{Kind: kind, Name: name}, nil
}

// NotificationRule says that a person is reached on Medium DelaySeconds
// after their first notification of a page. Its JSON form is the one
// recorded in workflow histories; keep it.
type NotificationRule struct {
	Medium       klaxon.Medium `json:"medium"`
	DelaySeconds int           `json:"delay_seconds"`
}

// DefaultNotificationRules are the rules of a person who has set none: a
// text at once, a call after 2 minutes, an email after 5.
func DefaultNotificationRules() []NotificationRule {
	return []NotificationRule{
		{Medium: klaxon.SMS, DelaySeconds: 0},
		{Medium: klaxon.Voice, DelaySeconds: 120},
		{Medium: klaxon.Email, DelaySeconds: 300},
	}
}

// CanPage is the one reachability rule: a person can be paged when they
// are active (not deactivated, as people removed from the directory are)
// and have at least one verified contact method. The API refuses a page
// that would reach nobody, "get HANDLE now" by text answers so, and an
// escalation step passes over such a person, all by it.
func CanPage(active bool, verifiedContacts int) bool { return active && verifiedContacts > 0 }

// WhyNot says, in one sentence, why handle cannot be paged by CanPage's
// rule; "" when they can.
func WhyNot(handle string, active bool, verifiedContacts int) string {
	switch {
	case !active:
		return handle + " is deactivated (no longer in the directory), so is paged no more."
	case verifiedContacts == 0:
		return handle + " has no verified contact method."
	}
	return ""
}

// TimelineStatus reports whether a provider status is worth a line in a
// page's timeline: the ones that say whether the person was reached.
func TimelineStatus(status string) bool {
	switch status {
	case klaxon.StatusRinging, klaxon.StatusAnswered, klaxon.StatusDelivered, klaxon.StatusCompleted,
		klaxon.StatusUndelivered, klaxon.StatusNoAnswer, klaxon.StatusBusy, klaxon.StatusFailed,
		klaxon.StatusCanceled, "read":
		return true
	}
	return false
}

// NotReached reports whether a status means the person was not reached —
// an undelivered text; a failed, busy or unanswered call; a call that ended
// on voicemail — and must be moved to their next medium at once.
func NotReached(status, answeredBy string) bool {
	switch status {
	case klaxon.StatusUndelivered, klaxon.StatusFailed, klaxon.StatusNoAnswer, klaxon.StatusBusy:
		return true
	case klaxon.StatusCompleted:
		return strings.HasPrefix(answeredBy, "machine")
	}
	return false
}

// Error types of the page workflow's update validators: an acknowledgement
// or resolution that changes nothing. Their details carry an ActionResult.
// They are a persisted API: never rename one.
const (
	ErrTypeAcked    = "PageAlreadyAcked"
	ErrTypeResolved = "PageAlreadyResolved"
)

// Action is who acknowledges or resolves a page, and how. Its JSON form is
// the one recorded in workflow histories; keep it.
type Action struct {
	By string `json:"by"`
	// Via is how: "sms", "call", "api", "cli".
	Via string `json:"via"`
	// CallSID is the call whose keypress it was; that call is not hung up.
	CallSID string `json:"call_sid,omitempty"`
}

// ActionResult is a page after an acknowledgement or resolution. Its JSON
// form is the one recorded in workflow histories; keep it.
type ActionResult struct {
	PageID int64  `json:"id"`
	Status string `json:"status"`
	// By is who acknowledged (or resolved, once resolved) it, on record.
	By string `json:"by,omitempty"`
	// Changed is false when the page was already in that state or past it.
	Changed bool `json:"changed"`
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
