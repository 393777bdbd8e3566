package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/internal/testenv"
)

// serviceJSON is a service as the API answers.
type serviceJSON struct {
	Name            string `json:"name"`
	Target          string `json:"target"`
	Key             string `json:"key"`
	AlertmanagerURL string `json:"alertmanager_url"`
	EventsURL       string `json:"events_url"`
	Error           string `json:"error"`
}

// integrationJSON is what an integration route answers.
type integrationJSON struct {
	PageID int64  `json:"page_id"`
	Status string `json:"status"`
	Action string `json:"action"`
	Error  string `json:"error"`
}

func (h *harness) createService(t *testing.T, name, target string) serviceJSON {
	t.Helper()
	var s serviceJSON
	if code := h.api(http.MethodPost, "/api/v1/services", map[string]string{"name": name, "target": target}, &s); code != http.StatusCreated {
		t.Fatalf("create service: %d %s", code, s.Error)
	}
	if !strings.HasPrefix(s.Key, "kxi_") || !strings.HasSuffix(s.AlertmanagerURL, "/api/v1/integrations/"+s.Key+"/alertmanager") {
		t.Fatalf("service = %+v", s)
	}
	return s
}

// monitor posts to an integration route without the API token.
func (h *harness) monitor(t *testing.T, path, body string) (int, integrationJSON) {
	t.Helper()
	resp, err := http.Post(h.baseURL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out integrationJSON
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// pageSummary reads a page's summary through the API.
func (h *harness) pageSummary(t *testing.T, id int64) string {
	t.Helper()
	var p struct {
		Summary string `json:"summary"`
	}
	if code := h.api(http.MethodGet, fmt.Sprintf("/api/v1/pages/%d", id), nil, &p); code != http.StatusOK {
		t.Fatalf("GET page %d: %d", id, code)
	}
	return p.Summary
}

func (h *harness) openPages(t *testing.T) []pageJSON {
	t.Helper()
	var out struct {
		Pages []pageJSON `json:"pages"`
	}
	if code := h.api(http.MethodGet, "/api/v1/pages?status=open", nil, &out); code != http.StatusOK {
		t.Fatalf("list pages: %d", code)
	}
	return out.Pages
}

func TestAlertmanager_RealAlertmanagerOpensJoinsAndResolvesOnePage(t *testing.T) {
	h := newHarness(t, harnessOptions{Env: map[string]string{"KLAXON_ALERT_QUIET": "1s"}})
	const alice = "+15555550123"
	pagingPerson(t, h, "alice", alice, "")
	svc := h.createService(t, "api", "user:alice")
	am := testenv.StartAlertmanager(t, svc.AlertmanagerURL)
	ctx := context.Background()

	latency := func(instance string, ends time.Time) testenv.PostAlert {
		return testenv.PostAlert{
			Labels:       map[string]string{"alertname": "HighLatency", "job": "api", "severity": "page", "instance": instance},
			Annotations:  map[string]string{"summary": "p99 latency over 2s"},
			StartsAt:     time.Now().Add(-time.Minute),
			EndsAt:       ends,
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=latency",
		}
	}
	if err := am.Post(ctx, latency("api-1", time.Time{})); err != nil {
		t.Fatal(err)
	}
	first := h.waitText(alice, "HighLatency")
	if !strings.Contains(first.Body, "[FIRING:1] HighLatency") {
		t.Errorf("page text = %q", first.Body)
	}
	pages := h.openPages(t)
	if len(pages) != 1 {
		t.Fatalf("%d open pages, want 1", len(pages))
	}
	id := pages[0].ID

	// A second alert of the group joins the page: its summary follows, and
	// nobody is paged again.
	if err := am.Post(ctx, latency("api-1", time.Time{}), latency("api-2", time.Time{})); err != nil {
		t.Fatal(err)
	}
	h.eventually("summary names two alerts", func() bool {
		return strings.HasPrefix(h.pageSummary(t, id), "[FIRING:2] HighLatency (job=api, severity=page)")
	})
	if n := len(h.openPages(t)); n != 1 {
		t.Errorf("%d open pages after the group grew, want 1", n)
	}

	// Both resolved: the page resolves once they have stayed resolved.
	past := time.Now().Add(-time.Second)
	if err := am.Post(ctx, latency("api-1", past), latency("api-2", past)); err != nil {
		t.Fatal(err)
	}
	p := h.waitPageStatus(t, id, "resolved")
	if p.ResolvedBy != "alertmanager" {
		t.Errorf("resolved by %q", p.ResolvedBy)
	}
	if n := countTexts(h, alice, "HighLatency"); n != 1 {
		t.Errorf("alice got %d page texts, want 1", n)
	}
}

// amPayload is an Alertmanager notification of the group g in status.
func amPayload(g, status string, alerts int) string {
	var as []string
	for i := range alerts {
		as = append(as, fmt.Sprintf(`{"status":%q,"labels":{"alertname":"DiskFull","instance":"db-%d"},"annotations":{},"startsAt":"2026-12-02T10:00:00Z","generatorURL":"http://prom/g"}`, status, i))
	}
	return fmt.Sprintf(`{"version":"4","groupKey":%q,"status":%q,"receiver":"klaxon","groupLabels":{"alertname":"DiskFull"},
		"commonLabels":{"alertname":"DiskFull"},"commonAnnotations":{},"externalURL":"http://am","alerts":[%s]}`, g, status, strings.Join(as, ","))
}

func TestAlertmanager_FlappingGroupKeepsOnePageAndPagesOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{Env: map[string]string{"KLAXON_ALERT_QUIET": "3s"}})
	const bob = "+15555550124"
	pagingPerson(t, h, "bob", bob, "")
	svc := h.createService(t, "db", "user:bob")
	path := "/api/v1/integrations/" + svc.Key + "/alertmanager"

	code, first := h.monitor(t, path, amPayload("{}:{alertname=\"DiskFull\"}", "firing", 1))
	if code != http.StatusAccepted || first.Action != "opened" || first.PageID == 0 {
		t.Fatalf("first firing: %d %+v", code, first)
	}
	h.waitText(bob, "DiskFull")
	// Flapping: resolved and firing again, five times, each within the
	// quiet window.
	for range 5 {
		if code, out := h.monitor(t, path, amPayload("{}:{alertname=\"DiskFull\"}", "resolved", 1)); code != http.StatusAccepted || out.Action != "resolving" {
			t.Fatalf("resolved: %d %+v", code, out)
		}
		code, out := h.monitor(t, path, amPayload("{}:{alertname=\"DiskFull\"}", "firing", 1))
		if code != http.StatusOK || out.Action != "joined" || out.PageID != first.PageID {
			t.Fatalf("re-fired: %d %+v", code, out)
		}
	}
	// The resolutions were called off: the page is still open after the
	// window, and bob was paged once.
	time.Sleep(4 * time.Second)
	if p := h.page(t, first.PageID); p.Status != "open" {
		t.Errorf("flapping page is %s, want open", p.Status)
	}
	if n := countTexts(h, bob, "DiskFull"); n != 1 {
		t.Errorf("bob got %d page texts for a flapping group, want 1", n)
	}
	// Resolved for good: resolved after the window.
	h.monitor(t, path, amPayload("{}:{alertname=\"DiskFull\"}", "resolved", 1))
	h.waitPageStatus(t, first.PageID, "resolved")
}

func TestIntegrations_KeysAndBadInputChangeNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pagingPerson(t, h, "carol", "+15555550125", "")
	svc := h.createService(t, "web", "user:carol")

	body := amPayload("g1", "firing", 1)
	for name, tc := range map[string]struct {
		path, body string
		want       int
	}{
		"unknown key":     {"/api/v1/integrations/kxi_" + strings.Repeat("a", 32) + "/alertmanager", body, http.StatusNotFound},
		"malformed key":   {"/api/v1/integrations/nope/alertmanager", body, http.StatusNotFound},
		"not json":        {"/api/v1/integrations/" + svc.Key + "/alertmanager", `{"version":`, http.StatusBadRequest},
		"version 3":       {"/api/v1/integrations/" + svc.Key + "/alertmanager", strings.Replace(body, `"version":"4"`, `"version":"3"`, 1), http.StatusBadRequest},
		"no alerts":       {"/api/v1/integrations/" + svc.Key + "/alertmanager", `{"version":"4","groupKey":"g","status":"firing","alerts":[]}`, http.StatusBadRequest},
		"oversized":       {"/api/v1/integrations/" + svc.Key + "/alertmanager", `{"version":"4","groupKey":"` + strings.Repeat("x", 5<<20) + `"}`, http.StatusRequestEntityTooLarge},
		"event no action": {"/api/v1/integrations/" + svc.Key + "/events", `{"action":"snooze","summary":"x"}`, http.StatusBadRequest},
		"event nul":       {"/api/v1/integrations/" + svc.Key + "/events", `{"summary":"a\u0000b"}`, http.StatusBadRequest},
	} {
		code, out := h.monitor(t, tc.path, tc.body)
		if code != tc.want || out.Error == "" {
			t.Errorf("%s: %d %+v, want %d with an error", name, code, out, tc.want)
		}
	}
	if n := len(h.openPages(t)); n != 0 {
		t.Fatalf("bad requests opened %d pages", n)
	}

	// Rotating the key invalidates the old one at once.
	var rotated serviceJSON
	if code := h.api(http.MethodPost, "/api/v1/services/web/rotate-key", nil, &rotated); code != http.StatusOK || rotated.Key == "" || rotated.Key == svc.Key {
		t.Fatalf("rotate: %d %+v", code, rotated)
	}
	if code, _ := h.monitor(t, "/api/v1/integrations/"+svc.Key+"/events", `{"summary":"x"}`); code != http.StatusNotFound {
		t.Errorf("old key after rotation: %d, want 404", code)
	}
	var shown serviceJSON
	if code := h.api(http.MethodGet, "/api/v1/services/web", nil, &shown); code != http.StatusOK || shown.Key != "" || shown.Target != "user:carol" {
		t.Errorf("GET service: %d %+v (the key is shown only once)", code, shown)
	}
	for name, tc := range map[string]struct {
		body map[string]string
		want int
	}{
		"bad name":      {map[string]string{"name": "Bad Name", "target": "user:carol"}, http.StatusBadRequest},
		"no such user":  {map[string]string{"name": "x", "target": "user:nobody"}, http.StatusUnprocessableEntity},
		"bad target":    {map[string]string{"name": "x", "target": "team:ops"}, http.StatusBadRequest},
		"name is taken": {map[string]string{"name": "web", "target": "user:carol"}, http.StatusConflict},
	} {
		var out serviceJSON
		if code := h.api(http.MethodPost, "/api/v1/services", tc.body, &out); code != tc.want || out.Error == "" {
			t.Errorf("%s: %d %+v, want %d", name, code, out, tc.want)
		}
	}
	if code := h.api(http.MethodDelete, "/api/v1/services/web", nil, nil); code != http.StatusNoContent {
		t.Errorf("delete: %d", code)
	}
	if code, _ := h.monitor(t, "/api/v1/integrations/"+rotated.Key+"/events", `{"summary":"x"}`); code != http.StatusNotFound {
		t.Errorf("key of a deleted service: %d, want 404", code)
	}
}

func TestEvents_TriggerDedupAckResolve(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const dave = "+15555550126"
	pagingPerson(t, h, "dave", dave, "")
	svc := h.createService(t, "backup", "user:dave")
	path := "/api/v1/integrations/" + svc.Key + "/events"

	code, opened := h.monitor(t, path, `{"summary":"nightly backup failed","details":"exit 3","dedup_key":"nightly"}`)
	if code != http.StatusAccepted || opened.Action != "opened" {
		t.Fatalf("trigger: %d %+v", code, opened)
	}
	h.waitText(dave, "nightly backup failed")
	if code, again := h.monitor(t, path, `{"action":"trigger","summary":"nightly backup failed","dedup_key":"nightly"}`); code != http.StatusOK || again.PageID != opened.PageID || again.Action != "joined" {
		t.Errorf("trigger again: %d %+v", code, again)
	}
	if code, acked := h.monitor(t, path, `{"action":"ack","dedup_key":"nightly"}`); code != http.StatusOK || acked.Status != "acked" {
		t.Errorf("ack: %d %+v", code, acked)
	}
	if p := h.page(t, opened.PageID); p.Status != "acked" || p.AckedBy != "alertmanager" {
		t.Errorf("page after ack = %+v", p)
	}
	if code, res := h.monitor(t, path, `{"action":"resolve","dedup_key":"nightly"}`); code != http.StatusOK || res.Status != "resolved" {
		t.Errorf("resolve: %d %+v", code, res)
	}
	if code, none := h.monitor(t, path, `{"action":"resolve","dedup_key":"nightly"}`); code != http.StatusOK || none.Action != "nothing" {
		t.Errorf("resolve again: %d %+v", code, none)
	}
	if n := countTexts(h, dave, "nightly backup failed"); n != 1 {
		t.Errorf("dave got %d page texts, want 1", n)
	}
}

func TestSubscriptions_FYIOfAServiceAckByEmailOnceAndOnlyWhenMatching(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice, bobPhone, bobMail = "+15555550131", "+15555550132", "bob@example.com"
	pagingPerson(t, h, "alice", alice, "")
	pagingPerson(t, h, "bob", bobPhone, bobMail)
	pagingPerson(t, h, "carl", "", "carl@example.com")

	// Through the CLI, as an operator would.
	out, err := h.cli("service", "add", "api", "-t", "user:alice")
	if err != nil || !strings.Contains(out, "kxi_") || !strings.Contains(out, "/alertmanager") {
		t.Fatalf("service add: %v\n%s", err, out)
	}
	key := ""
	for _, f := range strings.Fields(out) {
		if strings.HasPrefix(f, "kxi_") {
			key = f
		}
	}
	if out, err := h.cli("subscription", "add", "bob", "--then", "email", "--service", "api", "--event", "acked"); err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("subscription add: %v %q", err, out)
	}
	var sub struct {
		ID    int64  `json:"id"`
		Error string `json:"error"`
	}
	if code := h.api(http.MethodPost, "/api/v1/users/bob/subscriptions", map[string]any{
		"when": map[string]string{"event": "opened", "contains": "latency"}, "then": "sms"}, &sub); code != http.StatusCreated || sub.ID == 0 {
		t.Fatalf("subscribe by API: %d %+v", code, sub)
	}
	// carl wants texts but has no verified number: told of nothing.
	h.api(http.MethodPost, "/api/v1/users/carl/subscriptions", map[string]any{"then": "sms"}, nil)
	for name, body := range map[string]any{
		"bad medium":      map[string]any{"then": "pigeon"},
		"bad event":       map[string]any{"when": map[string]string{"event": "exploded"}, "then": "sms"},
		"unknown service": map[string]any{"when": map[string]string{"service": "nope"}, "then": "sms"},
	} {
		var e struct {
			Error string `json:"error"`
		}
		if code := h.api(http.MethodPost, "/api/v1/users/bob/subscriptions", body, &e); code/100 != 4 || e.Error == "" {
			t.Errorf("%s: %d %+v", name, code, e)
		}
	}

	path := "/api/v1/integrations/" + key + "/events"
	code, opened := h.monitor(t, path, `{"summary":"api latency high","dedup_key":"lat"}`)
	if code != http.StatusAccepted {
		t.Fatalf("trigger: %d %+v", code, opened)
	}
	h.waitText(alice, "api latency high")
	fyi := h.waitText(bobPhone, "FYI")
	if !strings.Contains(fyi.Body, fmt.Sprintf("page #%d was opened", opened.PageID)) || !strings.Contains(fyi.Body, "api latency high") {
		t.Errorf("opened FYI = %q", fyi.Body)
	}
	h.monitor(t, path, `{"action":"ack","dedup_key":"lat"}`)
	mail := h.waitMail(bobMail, func(m mailsink.Mail) bool { return strings.Contains(m.Subject, "FYI") })
	if !strings.Contains(mail.Subject, fmt.Sprintf("page #%d was acknowledged", opened.PageID)) || !strings.Contains(mail.Body, "api latency high") {
		t.Errorf("acked FYI mail = %q / %q", mail.Subject, mail.Body)
	}
	h.monitor(t, path, `{"action":"resolve","dedup_key":"lat"}`)
	h.waitPageStatus(t, opened.PageID, "resolved")

	// Another page, matching nothing bob asked for.
	if code, _ := h.monitor(t, path, `{"summary":"disk full","dedup_key":"disk"}`); code != http.StatusAccepted {
		t.Fatal("second trigger")
	}
	h.waitText(alice, "disk full")
	time.Sleep(time.Second)
	if n := countTexts(h, bobPhone, "FYI"); n != 1 {
		t.Errorf("bob got %d FYI texts, want 1 (the opened latency page only)", n)
	}
	n := 0
	for _, m := range h.sink.Mails() {
		if strings.Contains(m.Subject, "FYI") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d FYI mails, want 1", n)
	}
	if out, err := h.cli("subscription", "list", "bob"); err != nil || !strings.Contains(out, "acked") || !strings.Contains(out, "latency") {
		t.Errorf("subscription list: %v\n%s", err, out)
	}
}
