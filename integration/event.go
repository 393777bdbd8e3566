package integration

import (
	"strings"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon"
)

// Event actions of the generic event API.
const (
	Trigger = "trigger"
	Ack     = "ack"
	Resolve = "resolve"
)

// Event is the body of POST /api/v1/integrations/{key}/events: what any
// monitor that can post JSON sends.
type Event struct {
	Action   string `json:"action"`
	Summary  string `json:"summary"`
	Details  string `json:"details"`
	DedupKey string `json:"dedup_key"`
}

// Check fills the default action and refuses an event Klaxon cannot act
// on, with one sentence.
func (e *Event) Check() error {
	e.Action = strings.ToLower(strings.TrimSpace(e.Action))
	if e.Action == "" {
		e.Action = Trigger
	}
	e.Summary = strings.TrimSpace(e.Summary)
	e.DedupKey = strings.TrimSpace(e.DedupKey)
	for name, v := range map[string]string{"summary": e.Summary, "details": e.Details, "dedup_key": e.DedupKey} {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return klaxon.Errorf(klaxon.EInvalid, "Field %q must be UTF-8 text without NUL bytes.", name)
		}
	}
	switch {
	case e.Action != Trigger && e.Action != Ack && e.Action != Resolve:
		return klaxon.Errorf(klaxon.EInvalid, `Field "action" must be "trigger", "ack" or "resolve", not %q.`, clip(e.Action, 20))
	case e.Action == Trigger && e.Summary == "":
		return klaxon.Errorf(klaxon.EInvalid, `Field "summary" is required to trigger a page.`)
	case e.Action != Trigger && e.DedupKey == "":
		return klaxon.Errorf(klaxon.EInvalid, `Field "dedup_key" is required to %s: it names the page.`, e.Action)
	case utf8.RuneCountInString(e.Summary) > maxSummary:
		return klaxon.Errorf(klaxon.EInvalid, `Field "summary" is longer than %d characters.`, maxSummary)
	case utf8.RuneCountInString(e.Details) > maxDetails:
		return klaxon.Errorf(klaxon.EInvalid, `Field "details" is longer than %d characters.`, maxDetails)
	case len(e.DedupKey) > 200:
		return klaxon.Errorf(klaxon.EInvalid, `Field "dedup_key" is longer than 200 bytes.`)
	}
	return nil
}

// PageKey is the page dedup key of an event's dedup key within a service,
// so two services never share a page by accident.
func PageKey(service, dedupKey string) string {
	if dedupKey == "" {
		return ""
	}
	return "event/" + service + "/" + dedupKey
}
