package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// rotationPerson makes a user; with a phone, a verified SMS number too.
func rotationPerson(t testing.TB, h *harness, handle, phone string) {
	t.Helper()
	ctx := context.Background()
	u, err := h.store.CreateUser(ctx, store.User{Handle: handle, Name: strings.ToUpper(handle[:1]) + handle[1:], Timezone: "Europe/Berlin"})
	if err != nil {
		t.Fatal(err)
	}
	if phone == "" {
		return
	}
	c, err := h.store.AddContact(ctx, store.Contact{UserID: u.ID, Type: klaxon.SMS, Address: phone})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.MarkContactVerified(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
}

// rotationAnswer is the API's rotation view, as far as these tests read it.
type rotationAnswer struct {
	Name     string     `json:"name"`
	Members  []string   `json:"members"`
	Shift    string     `json:"shift"`
	OnCall   api.OnCall `json:"oncall"`
	Upcoming []struct {
		User  string    `json:"user"`
		Start time.Time `json:"start"`
	} `json:"upcoming"`
	Handoffs *struct {
		Status string `json:"status"`
	} `json:"handoffs"`
	Warnings []string `json:"warnings"`
	Error    string   `json:"error"`
}

func onCallNow(t *testing.T, h *harness, rotation string) api.OnCall {
	t.Helper()
	var oc api.OnCall
	if code := h.api(http.MethodGet, "/api/v1/rotations/"+rotation+"/oncall", nil, &oc); code != http.StatusOK {
		t.Fatalf("oncall: status %d", code)
	}
	return oc
}

func userOf(oc api.OnCall) string {
	if oc.User == nil {
		return ""
	}
	return *oc.User
}

// TestE2E_Rotations_OnCallOverridesAndHandoffTexts walks the "done when" of
// rotations: create a rotation, see who is on call, receive the handoff
// text when it starts, add an override and see the cover take over (texts
// to both), remove it, edit members, export the calendar, delete it.
func TestE2E_Rotations_OnCallOverridesAndHandoffTexts(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice, bob = "+15555550201", "+15555550202"
	rotationPerson(t, h, "alice", alice)
	rotationPerson(t, h, "bob", bob)
	rotationPerson(t, h, "carol", "")

	start := time.Now().Add(2 * time.Second).Truncate(time.Second)
	var created rotationAnswer
	code := h.api(http.MethodPost, "/api/v1/rotations", map[string]any{
		"name": "ops", "timezone": "Europe/Berlin", "members": []string{"alice", "bob", "carol"},
		"shift_hours": 24, "start": start.Format(time.RFC3339), "reminder_minutes": 0,
	}, &created)
	if code != http.StatusCreated {
		t.Fatalf("create: status %d: %s", code, created.Error)
	}
	if created.OnCall.User != nil || created.OnCall.Until == nil || !created.OnCall.Until.Equal(start) {
		t.Errorf("before the start: %+v, want nobody until %s", created.OnCall, start)
	}
	if len(created.Warnings) != 1 || !strings.Contains(created.Warnings[0], "carol has no verified contact method") {
		t.Errorf("warnings %q, want one about carol", created.Warnings)
	}

	// The start is the first handoff: alice is told, on time.
	m := h.waitText(alice, "You are now on call for ops until ")
	if m.Created.Before(start) {
		t.Errorf("handoff text at %s, before the handoff at %s", m.Created, start)
	}
	t.Logf("start handoff reached the simulator %v after the scheduled instant", m.Created.Sub(start))
	oc := onCallNow(t, h, "ops")
	if userOf(oc) != "alice" || oc.Until == nil || !oc.Until.Equal(start.Add(24*time.Hour)) || oc.ScheduledUser == nil || *oc.ScheduledUser != "alice" {
		t.Fatalf("on call after the start: %+v", oc)
	}

	// bob covers for an hour, from now: both are told.
	var ov struct {
		ID     int64    `json:"id"`
		Covers []string `json:"covers"`
		Error  string   `json:"error"`
	}
	end := time.Now().Add(time.Hour).Truncate(time.Second)
	if code := h.api(http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"user": "bob", "end": end.Format(time.RFC3339)}, &ov); code != http.StatusCreated {
		t.Fatalf("override: status %d: %s", code, ov.Error)
	}
	if len(ov.Covers) != 1 || ov.Covers[0] != "alice" {
		t.Errorf("override covers %v, want [alice]", ov.Covers)
	}
	h.waitText(alice, "You are off call for ops; Bob has it.")
	h.waitText(bob, "You are now on call for ops until ")
	oc = onCallNow(t, h, "ops")
	if userOf(oc) != "bob" || *oc.ScheduledUser != "alice" || oc.OverrideID != ov.ID || !oc.Until.Equal(end) {
		t.Fatalf("during the override: %+v", oc)
	}
	var list struct {
		Overrides []struct {
			ID int64 `json:"id"`
		} `json:"overrides"`
	}
	if h.api(http.MethodGet, "/api/v1/rotations/ops/overrides", nil, &list); len(list.Overrides) != 1 || list.Overrides[0].ID != ov.ID {
		t.Fatalf("overrides %+v", list)
	}

	// Removing it hands back to alice.
	if code := h.api(http.MethodDelete, "/api/v1/rotations/ops/overrides/"+strconv.FormatInt(ov.ID, 10), nil, nil); code != http.StatusOK {
		t.Fatalf("delete override: status %d", code)
	}
	h.waitText(bob, "You are off call for ops; Alice has it.")
	h.eventually("alice told she is back on call", func() bool { return countTexts(h, alice, "You are now on call for ops") == 2 })
	if userOf(onCallNow(t, h, "ops")) != "alice" {
		t.Fatal("alice is not back on call")
	}

	// Member edits keep alice on call.
	var edited rotationAnswer
	if code := h.api(http.MethodPut, "/api/v1/rotations/ops/members", map[string]any{"members": []string{"bob", "alice"}}, &edited); code != http.StatusOK {
		t.Fatalf("put members: status %d: %s", code, edited.Error)
	}
	if userOf(edited.OnCall) != "alice" || strings.Join(edited.Members, ",") != "bob,alice" {
		t.Fatalf("after reordering: %+v", edited)
	}
	if code := h.api(http.MethodPatch, "/api/v1/rotations/ops/members", map[string]any{"add": []string{"carol"}}, &edited); code != http.StatusOK {
		t.Fatalf("patch members: status %d: %s", code, edited.Error)
	}
	if strings.Join(edited.Members, ",") != "bob,alice,carol" || userOf(edited.OnCall) != "alice" {
		t.Fatalf("after adding carol: %+v", edited)
	}

	var shown rotationAnswer
	if code := h.api(http.MethodGet, "/api/v1/rotations/ops?shifts=4", nil, &shown); code != http.StatusOK {
		t.Fatalf("show: %d", code)
	}
	var order []string
	for _, s := range shown.Upcoming {
		order = append(order, s.User)
	}
	if strings.Join(order, ",") != "alice,carol,bob,alice" {
		t.Errorf("upcoming %v, want alice,carol,bob,alice", order)
	}
	if shown.Handoffs == nil || shown.Handoffs.Status != "running" {
		t.Errorf("handoffs %+v, want the workflow running", shown.Handoffs)
	}

	// The calendar.
	ics := h.rawGet(t, "/api/v1/rotations/ops.ics?weeks=1")
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "VERSION:2.0\r\n", "SUMMARY:On call: ops — alice\r\n", "SUMMARY:On call: ops — carol\r\n", "DTSTART:" + start.UTC().Format("20060102T150405Z") + "\r\n", "END:VCALENDAR\r\n"} {
		if !strings.Contains(ics, want) {
			t.Errorf("calendar lacks %q:\n%s", want, ics)
		}
	}
	if n := strings.Count(ics, "BEGIN:VEVENT"); n != 8 {
		t.Errorf("%d events in a week of daily shifts, want 8 (the current one and 7 more)", n)
	}

	// Deleting ends the handoff workflow.
	if code := h.api(http.MethodDelete, "/api/v1/rotations/ops", nil, nil); code != http.StatusOK {
		t.Fatalf("delete: %d", code)
	}
	if code := h.api(http.MethodGet, "/api/v1/rotations/ops/oncall", nil, nil); code != http.StatusNotFound {
		t.Fatalf("oncall after delete: %d, want 404", code)
	}
	h.eventually("the handoff workflow to end", func() bool {
		d, err := h.temporal.DescribeWorkflowExecution(context.Background(), workflows.RotationWorkflowID(h.cfg.TaskQueue, "ops"), "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	})
	if n := countTexts(h, alice, "You are now on call for ops"); n != 2 {
		t.Errorf("alice got %d 'now on call' texts, want 2", n)
	}
}

// rawGet fetches a non-JSON API answer.
func (h *harness) rawGet(t *testing.T, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.baseURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+hToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("GET %s: %d %s: %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return string(body)
}

// TestE2E_Rotations_BadInputIsRefusedAndWritesNothing sends every kind of
// bad request and checks the status, the sentence, and that nothing was
// written.
func TestE2E_Rotations_BadInputIsRefusedAndWritesNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rotationPerson(t, h, "alice", "+15555550211")
	rotationPerson(t, h, "bob", "+15555550212")
	good := func(edit func(map[string]any)) map[string]any {
		m := map[string]any{"name": "ops", "timezone": "America/New_York", "members": []string{"alice", "bob"}, "shift_days": 1, "start": "2026-03-02T09:00:00-05:00"}
		if edit != nil {
			edit(m)
		}
		return m
	}
	creates := []struct {
		name   string
		body   any
		status int
		text   string
	}{
		{"empty body", "", 400, "empty"},
		{"not JSON", "name=ops", 400, "not valid JSON"},
		{"no name", good(func(m map[string]any) { delete(m, "name") }), 400, "needs a name"},
		{"bad name", good(func(m map[string]any) { m["name"] = "Ops Team" }), 400, "not a valid rotation name"},
		{"unknown timezone", good(func(m map[string]any) { m["timezone"] = "America/Gotham" }), 400, `"America/Gotham" is not a known timezone`},
		{"no timezone", good(func(m map[string]any) { delete(m, "timezone") }), 400, "timezone is required"},
		{"zero shift", good(func(m map[string]any) { m["shift_days"] = 0 }), 400, "must be a positive whole number"},
		{"negative shift", good(func(m map[string]any) { delete(m, "shift_days"); m["shift_hours"] = -8 }), 400, "must be a positive whole number"},
		{"two shift lengths", good(func(m map[string]any) { m["shift_hours"] = 24 }), 400, "Give the shift length once"},
		{"no shift length", good(func(m map[string]any) { delete(m, "shift_days") }), 400, "Say how long a shift is"},
		{"shift as text", good(func(m map[string]any) { m["shift_days"] = "1" }), 400, `"shift_days" must be a number`},
		{"no members", good(func(m map[string]any) { m["members"] = []string{} }), 400, "at least one member"},
		{"unknown members", good(func(m map[string]any) { m["members"] = []string{"alice", "zed", "yan"} }), 400, `no users with the handles "zed", "yan"`},
		{"a member twice", good(func(m map[string]any) { m["members"] = []string{"alice", "bob", "alice"} }), 400, `"alice" is listed twice`},
		{"bad start", good(func(m map[string]any) { m["start"] = "next monday" }), 400, "RFC 3339"},
		{"bad handoff time", good(func(m map[string]any) { m["handoff_time"] = "9am" }), 400, "not a time of day"},
		{"weekday with daily shifts", good(func(m map[string]any) { m["handoff_weekday"] = "monday" }), 400, "needs a shift of whole weeks"},
		{"bad weekday", good(func(m map[string]any) {
			delete(m, "shift_days")
			m["shift_weeks"] = 1
			m["handoff_weekday"] = "someday"
		}), 400, "not a weekday"},
		{"negative reminder", good(func(m map[string]any) { m["reminder_minutes"] = -5 }), 400, "reminder_minutes"},
	}
	for _, tt := range creates {
		t.Run("create/"+tt.name, func(t *testing.T) {
			var out struct {
				Error string `json:"error"`
			}
			code := h.api(http.MethodPost, "/api/v1/rotations", tt.body, &out)
			if code != tt.status || !strings.Contains(out.Error, tt.text) {
				t.Fatalf("status %d %q, want %d containing %q", code, out.Error, tt.status, tt.text)
			}
		})
	}
	var list struct {
		Rotations []any `json:"rotations"`
	}
	if h.api(http.MethodGet, "/api/v1/rotations", nil, &list); len(list.Rotations) != 0 {
		t.Fatalf("refused requests left rotations behind: %+v", list.Rotations)
	}

	if code := h.api(http.MethodPost, "/api/v1/rotations", good(nil), nil); code != http.StatusCreated {
		t.Fatalf("good create: %d", code)
	}
	future := time.Now().Add(24 * time.Hour).UTC()
	at := func(d time.Duration) string { return future.Add(d).Format(time.RFC3339) }
	if code := h.api(http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"user": "bob", "start": at(0), "end": at(4 * time.Hour)}, nil); code != http.StatusCreated {
		t.Fatalf("good override: %d", code)
	}
	others := []struct {
		name, method, path string
		body               any
		status             int
		text               string
	}{
		{"duplicate rotation", http.MethodPost, "/api/v1/rotations", good(nil), 409, `A rotation named "ops" already exists.`},
		{"unknown rotation", http.MethodGet, "/api/v1/rotations/nope", nil, 404, `no rotation named "nope"`},
		{"unknown rotation's on-call", http.MethodGet, "/api/v1/rotations/nope/oncall", nil, 404, "no rotation"},
		{"unknown rotation's calendar", http.MethodGet, "/api/v1/rotations/nope.ics", nil, 404, "no rotation"},
		{"bad at", http.MethodGet, "/api/v1/rotations/ops/oncall?at=tomorrow", nil, 400, `"at" must be an RFC 3339 time`},
		{"calendar weeks out of range", http.MethodGet, "/api/v1/rotations/ops.ics?weeks=0", nil, 400, `"weeks" must be a whole number from 1 to 52`},
		{"inverted override", http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"user": "alice", "start": at(10 * time.Hour), "end": at(9 * time.Hour)}, 400, "must end after it starts"},
		{"overlapping override", http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"user": "alice", "start": at(3 * time.Hour), "end": at(5 * time.Hour)}, 409, "overlaps override"},
		{"override by a stranger", http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"user": "zed", "start": at(5 * time.Hour), "end": at(6 * time.Hour)}, 400, `no user with the handle "zed"`},
		{"override without end", http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"user": "alice"}, 400, `"end" is required`},
		{"override without user", http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"end": at(0)}, 400, `"user" is required`},
		{"override in the past", http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"user": "alice", "start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"}, 400, "ends in the past"},
		{"override on an unknown rotation", http.MethodPost, "/api/v1/rotations/nope/overrides", map[string]string{"user": "alice", "end": at(0)}, 404, "no rotation"},
		{"remove an unknown override", http.MethodDelete, "/api/v1/rotations/ops/overrides/999999", nil, 404, "has no override 999999"},
		{"remove a non-numeric override", http.MethodDelete, "/api/v1/rotations/ops/overrides/abc", nil, 404, "override ids are numbers"},
		{"remove a non-member", http.MethodPatch, "/api/v1/rotations/ops/members", map[string]any{"remove": []string{"zed"}}, 400, "zed is not a member of ops"},
		{"add a member twice", http.MethodPatch, "/api/v1/rotations/ops/members", map[string]any{"add": []string{"bob"}}, 400, "bob is already a member of ops"},
		{"empty member patch", http.MethodPatch, "/api/v1/rotations/ops/members", map[string]any{}, 400, "Nothing to change"},
		{"empty member list", http.MethodPut, "/api/v1/rotations/ops/members", map[string]any{"members": []string{}}, 400, "at least one member"},
		{"member list with a stranger", http.MethodPut, "/api/v1/rotations/ops/members", map[string]any{"members": []string{"alice", "zed"}}, 400, `no user with the handle "zed"`},
		{"bad reminder", http.MethodPatch, "/api/v1/rotations/ops", map[string]any{"reminder_minutes": 20000}, 400, "reminder_minutes"},
	}
	for _, tt := range others {
		t.Run(tt.name, func(t *testing.T) {
			var out struct {
				Error string `json:"error"`
			}
			code := h.api(tt.method, tt.path, tt.body, &out)
			if code != tt.status || !strings.Contains(out.Error, tt.text) {
				t.Fatalf("status %d %q, want %d containing %q", code, out.Error, tt.status, tt.text)
			}
		})
	}
	var shown rotationAnswer
	h.api(http.MethodGet, "/api/v1/rotations/ops", nil, &shown)
	if strings.Join(shown.Members, ",") != "alice,bob" {
		t.Fatalf("refused edits changed the members: %v", shown.Members)
	}
	var ovs struct {
		Overrides []any `json:"overrides"`
	}
	if h.api(http.MethodGet, "/api/v1/rotations/ops/overrides", nil, &ovs); len(ovs.Overrides) != 1 {
		t.Fatalf("%d overrides, want the one good one", len(ovs.Overrides))
	}
	// An unauthenticated request changes nothing either.
	req, _ := http.NewRequest(http.MethodDelete, h.baseURL+"/api/v1/rotations/ops", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("delete without a token: %d", resp.StatusCode)
	}
}

// TestE2E_Rotations_HandoffDuringWorkerOutageIsSentLateOnce stops the worker
// before a handoff and starts it again after: the handoff text goes out
// when it returns, once.
func TestE2E_Rotations_HandoffDuringWorkerOutageIsSentLateOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{SplitWorker: true})
	const alice = "+15555550221"
	rotationPerson(t, h, "alice", alice)
	rotationPerson(t, h, "bob", "+15555550222")
	start := time.Now().Add(3 * time.Second).Truncate(time.Second)
	if code := h.api(http.MethodPost, "/api/v1/rotations", map[string]any{
		"name": "night", "timezone": "UTC", "members": []string{"alice", "bob"}, "shift_hours": 12,
		"start": start.Format(time.RFC3339), "reminder_minutes": 0,
	}, nil); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	// Wait for the workflow to be asleep on its timer, then kill the worker.
	h.eventually("the handoff workflow waiting for the start", func() bool {
		q, err := h.temporal.QueryWorkflow(context.Background(), workflows.RotationWorkflowID(h.cfg.TaskQueue, "night"), "", workflows.QueryState)
		var st workflows.RotationState
		return err == nil && q.Get(&st) == nil && st.Status == "waiting" && st.NextHandoff != nil
	})
	h.stopWorker()
	for time.Now().Before(start.Add(2 * time.Second)) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(h.sim.Inbox(alice)); n != 0 {
		t.Fatalf("texts sent while the worker was down: %d", n)
	}
	h.startWorker()
	m := h.waitText(alice, "You are now on call for night until ")
	if late := m.Created.Sub(start); late < 2*time.Second {
		t.Errorf("sent %v after the handoff, while the worker was down", late)
	}
	// Give a duplicate every chance to show up.
	h.eventually("the workflow to plan the next handoff", func() bool {
		q, err := h.temporal.QueryWorkflow(context.Background(), workflows.RotationWorkflowID(h.cfg.TaskQueue, "night"), "", workflows.QueryState)
		var st workflows.RotationState
		return err == nil && q.Get(&st) == nil && st.NextHandoff != nil && st.NextHandoff.After(start)
	})
	if n := countTexts(h, alice, "You are now on call for night"); n != 1 {
		t.Fatalf("alice got %d handoff texts, want 1", n)
	}
}

// TestE2E_Rotations_CLI drives the maintainer CLI against the API.
func TestE2E_Rotations_CLI(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rotationPerson(t, h, "alice", "+15555550231")
	rotationPerson(t, h, "bob", "+15555550232")
	rotationPerson(t, h, "carol", "")
	cli := func(args ...string) (string, string, error) {
		env := map[string]string{"KLAXON_API_URL": h.baseURL, "KLAXON_API_TOKEN": hToken}
		var out, errOut bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := run(ctx, args, func(k string) string { return env[k] }, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	steps := []struct {
		args     []string
		want     []string // in stdout
		wantErr  string
		wantWarn string
	}{
		{args: []string{"rotation", "add", "db", "--timezone", "Europe/Berlin", "--members", "alice,bob,carol", "--shift", "1w", "--start", "2026-01-05 09:00", "--handoff-weekday", "mon", "--reminder", "30m"},
			want: []string{"Rotation  db", "1 week, handing off monday 09:00 Europe/Berlin", "Members   alice, bob, carol", "30 minutes before each shift"}, wantWarn: "carol has no verified contact method"},
		{args: []string{"rotation", "list"}, want: []string{"NAME", "db", "Europe/Berlin", "1 week", "alice,bob,carol"}},
		{args: []string{"oncall", "db", "--at", "2026-01-06 12:00"}, want: []string{"alice is on call for db until Mon 12 Jan 2026 09:00 CET."}},
		{args: []string{"oncall", "db", "--at", "2026-01-13 12:00"}, want: []string{"bob is on call for db until Mon 19 Jan 2026 09:00 CET."}},
		{args: []string{"rotation", "show", "db", "--shifts", "3"}, want: []string{"Upcoming:", "Handoffs"}},
		{args: []string{"rotation", "override", "add", "db", "--user", "bob", "--start", "now", "--end", "+2h"}, want: []string{"bob covers db from", "."}},
		{args: []string{"rotation", "override", "list", "db"}, want: []string{"ID", "bob"}},
		{args: []string{"rotation", "members", "db", "--remove", "carol"}, want: []string{"Members of db: alice, bob"}},
		{args: []string{"rotation", "set", "db", "--reminder", "0"}, want: []string{"Reminder for db: 0 minutes"}},
		{args: []string{"rotation", "calendar", "db", "--weeks", "2"}, want: []string{"BEGIN:VCALENDAR", "SUMMARY:On call: db — bob"}},
		{args: []string{"rotation", "add", "db", "--timezone", "UTC", "--members", "alice", "--shift", "1d"}, wantErr: `A rotation named "db" already exists.`},
		{args: []string{"rotation", "add", "x", "--timezone", "Mars/Base", "--members", "alice", "--shift", "1d"}, wantErr: "not a known timezone"},
		{args: []string{"rotation", "add", "x", "--timezone", "UTC", "--members", "alice", "--shift", "soon"}, wantErr: "--shift"},
		{args: []string{"oncall", "nope"}, wantErr: `There is no rotation named "nope".`},
		{args: []string{"rotation", "override", "remove", "db", "999"}, wantErr: "has no override 999"},
		{args: []string{"rotation", "delete", "db"}, want: []string{"deleted rotation db"}},
	}
	for _, st := range steps {
		out, errOut, err := cli(st.args...)
		name := strings.Join(st.args, " ")
		if st.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), st.wantErr) {
				t.Errorf("%s: error %v, want %q", name, err, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", name, w, out)
			}
		}
		if st.wantWarn != "" && !strings.Contains(errOut, st.wantWarn) {
			t.Errorf("%s: stderr lacks %q: %s", name, st.wantWarn, errOut)
		}
	}
}

// TestE2E_Rotations_PagesReachWhoeverIsOnCallWhenTheStepFires pages a
// rotation directly and through a policy step, before and during an
// override.
func TestE2E_Rotations_PagesReachWhoeverIsOnCallWhenTheStepFires(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice, bob = "+15555550241", "+15555550242"
	rotationPerson(t, h, "alice", alice)
	rotationPerson(t, h, "bob", bob)
	if code := h.api(http.MethodPost, "/api/v1/rotations", map[string]any{
		"name": "ops", "timezone": "UTC", "members": []string{"alice", "bob"}, "shift_days": 7,
		"start": time.Now().Add(-time.Hour).Format(time.RFC3339), "reminder_minutes": 0,
	}, nil); code != http.StatusCreated {
		t.Fatalf("create rotation: %d", code)
	}
	page := func(body map[string]any) int64 {
		t.Helper()
		var out struct {
			ID    int64  `json:"id"`
			Error string `json:"error"`
		}
		if code := h.api(http.MethodPost, "/api/v1/pages", body, &out); code != http.StatusAccepted {
			t.Fatalf("page %v: %d %s", body, code, out.Error)
		}
		return out.ID
	}
	resolve := func(id int64) {
		t.Helper()
		if code := h.api(http.MethodPost, "/api/v1/pages/"+strconv.FormatInt(id, 10)+"/resolve", map[string]string{}, nil); code != http.StatusOK {
			t.Fatalf("resolve page %d: %d", id, code)
		}
	}
	id := page(map[string]any{"target": "rotation:ops", "summary": "disk full on db-1"})
	h.waitText(alice, "disk full on db-1")
	resolve(id)

	// bob covers from now: the next page reaches him, not alice.
	if code := h.api(http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]string{"user": "bob", "end": time.Now().Add(time.Hour).Format(time.RFC3339)}, nil); code != http.StatusCreated {
		t.Fatalf("override: %d", code)
	}
	h.waitText(bob, "You are now on call for ops")
	id = page(map[string]any{"target": "rotation:ops", "summary": "replication lag"})
	h.waitText(bob, "replication lag")
	resolve(id)

	// A policy step naming the rotation pages whoever is on call when the
	// step fires: alice again once the override is gone.
	policy := map[string]any{"name": "db", "steps": []map[string]any{{"targets": []string{"rotation:ops"}, "delay_seconds": 60}}}
	if code := h.api(http.MethodPost, "/api/v1/policies", policy, nil); code != http.StatusCreated {
		t.Fatalf("create policy: %d", code)
	}
	var ovs struct {
		Overrides []struct {
			ID int64 `json:"id"`
		} `json:"overrides"`
	}
	h.api(http.MethodGet, "/api/v1/rotations/ops/overrides", nil, &ovs)
	if len(ovs.Overrides) != 1 {
		t.Fatalf("overrides %+v", ovs)
	}
	if code := h.api(http.MethodDelete, "/api/v1/rotations/ops/overrides/"+strconv.FormatInt(ovs.Overrides[0].ID, 10), nil, nil); code != http.StatusOK {
		t.Fatalf("remove override: %d", code)
	}
	id = page(map[string]any{"target": "policy:db", "summary": "primary unreachable"})
	h.waitText(alice, "primary unreachable")
	resolve(id)
	for _, m := range h.sim.Inbox(alice) {
		if strings.Contains(m.Body, "replication lag") {
			t.Errorf("alice was paged during bob's cover: %q", m.Body)
		}
	}
	for _, m := range h.sim.Inbox(bob) {
		if strings.Contains(m.Body, "disk full") || strings.Contains(m.Body, "primary unreachable") {
			t.Errorf("bob was paged outside his cover: %q", m.Body)
		}
	}
}
