package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon"
)

// MaxAlertmanagerBody bounds one Alertmanager notification. A group of a
// thousand alerts with their labels fits easily.
const MaxAlertmanagerBody = 4 << 20

// Alertmanager notification statuses.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Notification is Alertmanager's webhook payload, version 4.
type Notification struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert of a notification.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// ParseAlertmanager decodes and checks one webhook body. Every refusal is a
// *klaxon.Error with one sentence saying what is wrong.
func ParseAlertmanager(r io.Reader) (Notification, error) {
	var n Notification
	dec := json.NewDecoder(io.LimitReader(r, MaxAlertmanagerBody+1))
	if err := dec.Decode(&n); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return n, klaxon.Errorf(klaxon.EInvalid, "Field %q has the wrong type for an Alertmanager notification.", typ.Field)
		case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return n, klaxon.Errorf(klaxon.EInvalid, "The body is not an Alertmanager notification: it is not valid JSON.")
		default:
			return n, klaxon.Errorf(klaxon.EInvalid, "The body is not an Alertmanager notification: %s.", clip(err.Error(), 120))
		}
	}
	if dec.More() {
		return n, klaxon.Errorf(klaxon.EInvalid, "The body holds more than one JSON value; send one Alertmanager notification.")
	}
	return n, n.check()
}

// check refuses a notification Klaxon cannot act on.
func (n Notification) check() error {
	switch {
	case n.Version != "4":
		return klaxon.Errorf(klaxon.EInvalid, "Only Alertmanager's webhook payload version 4 is understood; this one says %q.", clip(n.Version, 20))
	case n.GroupKey == "":
		return klaxon.Errorf(klaxon.EInvalid, `Field "groupKey" is required: it is what ties an alert group to its page.`)
	case len(n.GroupKey) > 4096:
		return klaxon.Errorf(klaxon.EInvalid, `Field "groupKey" is longer than 4096 bytes.`)
	case n.Status != Firing && n.Status != Resolved:
		return klaxon.Errorf(klaxon.EInvalid, `Field "status" must be "firing" or "resolved", not %q.`, clip(n.Status, 20))
	case len(n.Alerts) == 0:
		return klaxon.Errorf(klaxon.EInvalid, `Field "alerts" is empty: a notification names at least one alert.`)
	}
	if !utf8.ValidString(n.GroupKey) || strings.ContainsRune(n.GroupKey, 0) {
		return klaxon.Errorf(klaxon.EInvalid, `Field "groupKey" must be UTF-8 text without NUL bytes.`)
	}
	for i, a := range n.Alerts {
		if a.Status != Firing && a.Status != Resolved {
			return klaxon.Errorf(klaxon.EInvalid, `Alert %d: "status" must be "firing" or "resolved".`, i+1)
		}
	}
	return nil
}

// DedupKey is the page key of an alert group of a service: while its page
// is open, the group's notifications join it.
func (n Notification) DedupKey(service string) string {
	sum := sha256.Sum256([]byte(n.GroupKey))
	return "alertmanager/" + service + "/" + hex.EncodeToString(sum[:12])
}

// Firing returns the alerts of the group that fire now.
func (n Notification) firing() []Alert {
	var out []Alert
	for _, a := range n.Alerts {
		if a.Status == Firing {
			out = append(out, a)
		}
	}
	return out
}

// Limits of what a page holds, as the pages table enforces.
const (
	maxSummary = 1000
	maxDetails = 10000
)

// Summary is the page's one line: how many alerts fire, their name, and the
// labels they share, e.g. "[FIRING:2] HighLatency (job=api, severity=page)".
func (n Notification) Summary() string {
	count := len(n.firing())
	if n.Status == Resolved || count == 0 {
		count = len(n.Alerts)
	}
	name := n.CommonLabels["alertname"]
	if name == "" {
		name = n.GroupLabels["alertname"]
	}
	if name == "" {
		name = "alert group"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s:%d] %s", strings.ToUpper(n.Status), count, name)
	if labels := labelList(n.CommonLabels, "alertname"); labels != "" {
		b.WriteString(" (" + labels + ")")
	}
	if s := n.CommonAnnotations["summary"]; s != "" {
		b.WriteString(": " + oneLine(s))
	}
	return clip(cleanText(b.String()), maxSummary)
}

// Details lists each alert with its labels, summary and link, firing ones
// first, and where the group came from.
func (n Notification) Details() string {
	var b strings.Builder
	alerts := slices.Clone(n.Alerts)
	slices.SortStableFunc(alerts, func(a, c Alert) int {
		switch {
		case a.Status == c.Status:
			return a.StartsAt.Compare(c.StartsAt)
		case a.Status == Firing:
			return -1
		default:
			return 1
		}
	})
	for _, a := range alerts {
		fmt.Fprintf(&b, "- %s %s", a.Status, labelList(a.Labels, ""))
		if s := a.Annotations["summary"]; s != "" {
			b.WriteString(": " + oneLine(s))
		} else if d := a.Annotations["description"]; d != "" {
			b.WriteString(": " + oneLine(d))
		}
		if !a.StartsAt.IsZero() {
			b.WriteString(" (since " + a.StartsAt.UTC().Format(time.RFC3339) + ")")
		}
		if a.GeneratorURL != "" {
			b.WriteString("\n  " + a.GeneratorURL)
		}
		b.WriteString("\n")
	}
	if n.TruncatedAlerts > 0 {
		fmt.Fprintf(&b, "(%d more alerts not sent by Alertmanager)\n", n.TruncatedAlerts)
	}
	if n.ExternalURL != "" {
		b.WriteString("Alertmanager: " + n.ExternalURL + "\n")
	}
	return clip(cleanText(b.String()), maxDetails)
}

// labelList writes labels as "k=v, k=v" in key order, leaving out skip.
func labelList(labels map[string]string, skip string) string {
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if k == skip {
			continue
		}
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, ", ")
}

// oneLine folds whitespace, newlines included.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// cleanText makes text fit to store: valid UTF-8, no NUL bytes.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}
