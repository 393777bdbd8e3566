package integration_test

import (
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/integration"
)

// amFiring is a notification as Alertmanager 0.25 sends it.
const amFiring = `{"receiver":"klaxon","status":"firing","alerts":[
 {"status":"firing","labels":{"alertname":"HighLatency","instance":"api-1:9100","job":"api","severity":"page"},
  "annotations":{"summary":"p99 latency over 2s"},"startsAt":"2026-12-02T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",
  "generatorURL":"http://prometheus:9090/graph?g0.expr=latency","fingerprint":"a1"},
 {"status":"firing","labels":{"alertname":"HighLatency","instance":"api-2:9100","job":"api","severity":"page"},
  "annotations":{},"startsAt":"2026-12-02T10:01:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"a2"}],
 "groupLabels":{"alertname":"HighLatency"},"commonLabels":{"alertname":"HighLatency","job":"api","severity":"page"},
 "commonAnnotations":{},"externalURL":"http://alertmanager:9093","version":"4","groupKey":"{}:{alertname=\"HighLatency\"}","truncatedAlerts":0}`

func TestParseAlertmanager_SummaryNamesAlertsAndCommonLabels(t *testing.T) {
	n, err := integration.ParseAlertmanager(strings.NewReader(amFiring))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n.Summary(), "[FIRING:2] HighLatency (job=api, severity=page)"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	d := n.Details()
	for _, want := range []string{"instance=api-1:9100", "p99 latency over 2s", "http://prometheus:9090/graph", "Alertmanager: http://alertmanager:9093", "since 2026-12-02T10:00:00Z"} {
		if !strings.Contains(d, want) {
			t.Errorf("details lack %q:\n%s", want, d)
		}
	}
	k1, k2 := n.DedupKey("api"), n.DedupKey("web")
	if k1 == k2 || !strings.HasPrefix(k1, "alertmanager/api/") || len(k1) > 255 {
		t.Errorf("dedup keys %q %q", k1, k2)
	}
	n.Alerts[1].Status = integration.Resolved
	if got := n.Summary(); !strings.HasPrefix(got, "[FIRING:1] ") {
		t.Errorf("one firing: %q", got)
	}
	if n.DedupKey("api") != k1 {
		t.Error("the dedup key changed as alerts changed")
	}
}

func TestParseAlertmanager_RefusesWithOneSentence(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `{"version":`,
		"two values":    `{"version":"4"} {}`,
		"old version":   strings.Replace(amFiring, `"version":"4"`, `"version":"3"`, 1),
		"no group key":  strings.Replace(amFiring, `"groupKey":"{}:{alertname=\"HighLatency\"}"`, `"groupKey":""`, 1),
		"bad status":    strings.Replace(amFiring, `"receiver":"klaxon","status":"firing"`, `"receiver":"klaxon","status":"burning"`, 1),
		"no alerts":     `{"version":"4","groupKey":"g","status":"firing","alerts":[]}`,
		"wrong type":    `{"version":4}`,
		"nul group key": `{"version":"4","groupKey":"a\u0000b","status":"firing","alerts":[{"status":"firing"}]}`,
		"too large":     `{"version":"4","groupKey":"` + strings.Repeat("x", integration.MaxAlertmanagerBody) + `"}`,
		"bad alert":     `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"odd"}]}`,
	} {
		_, err := integration.ParseAlertmanager(strings.NewReader(body))
		if klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
			t.Errorf("%s: err = %v, want invalid", name, err)
			continue
		}
		if msg := klaxon.ErrorMessageOf(err); !strings.HasSuffix(msg, ".") || strings.Count(msg, ". ") > 1 {
			t.Errorf("%s: %q is not one sentence", name, msg)
		}
	}
}

func TestEvent_Check(t *testing.T) {
	for name, tc := range map[string]struct {
		in     integration.Event
		ok     bool
		action string
	}{
		"trigger by default": {integration.Event{Summary: "disk full"}, true, integration.Trigger},
		"ack needs a key":    {integration.Event{Action: "ack"}, false, ""},
		"resolve by key":     {integration.Event{Action: "RESOLVE", DedupKey: "k"}, true, integration.Resolve},
		"unknown action":     {integration.Event{Action: "snooze", Summary: "x"}, false, ""},
		"trigger no summary": {integration.Event{DedupKey: "k"}, false, ""},
		"nul":                {integration.Event{Summary: "a\x00b"}, false, ""},
		"long summary":       {integration.Event{Summary: strings.Repeat("x", 1001)}, false, ""},
	} {
		e := tc.in
		err := e.Check()
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v", name, err)
		}
		if tc.ok && e.Action != tc.action {
			t.Errorf("%s: action %q, want %q", name, e.Action, tc.action)
		}
	}
	if integration.PageKey("api", "k") == integration.PageKey("web", "k") || integration.PageKey("api", "") != "" {
		t.Error("page keys are not scoped to the service")
	}
}

func TestKeys_RandomHashedAndConstantTimeCompared(t *testing.T) {
	k1, h1 := integration.NewKey()
	k2, _ := integration.NewKey()
	if k1 == k2 || !integration.WellFormedKey(k1) || len(k1) < 32 {
		t.Fatalf("keys %q %q", k1, k2)
	}
	if strings.Contains(h1, k1) || !integration.KeyMatches(k1, h1) || integration.KeyMatches(k2, h1) {
		t.Error("hash does not match its key only")
	}
	for _, bad := range []string{"", "kxi_", "abc", k1 + "x", strings.ToUpper(k1), "kxi_" + strings.Repeat("!", 32)} {
		if integration.WellFormedKey(bad) {
			t.Errorf("%q is well formed", bad)
		}
	}
}

func TestSubscription_CheckAndMatch(t *testing.T) {
	s := integration.Subscription{When: integration.When{Service: "api", Event: "ACKED", Contains: "Latency"}, Then: "Email"}
	if err := s.Check(); err != nil || s.Then != "email" || s.When.Event != "acked" || s.Medium() != klaxon.Email {
		t.Fatalf("check: %v %+v", err, s)
	}
	ev := integration.PageEvent{Event: "acked", Service: "api", Target: "rotation:ops", Summary: "[FIRING:2] HighLatency"}
	if !s.When.Matches(ev) {
		t.Error("matching event not matched")
	}
	for name, e := range map[string]integration.PageEvent{
		"other event":   {Event: "opened", Service: "api", Summary: "latency"},
		"other service": {Event: "acked", Service: "web", Summary: "latency"},
		"other words":   {Event: "acked", Service: "api", Summary: "disk full"},
	} {
		if s.When.Matches(e) {
			t.Errorf("%s matched", name)
		}
	}
	if !(integration.When{}).Matches(ev) {
		t.Error("an empty rule does not match everything")
	}
	for _, bad := range []integration.Subscription{
		{Then: "pigeon"}, {When: integration.When{Event: "snoozed"}, Then: "sms"}, {When: integration.When{Service: "Bad Name"}, Then: "sms"},
	} {
		if err := bad.Check(); klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if (integration.Subscription{Then: "call"}).Medium() != klaxon.Voice {
		t.Error("a call is not voice")
	}
}
