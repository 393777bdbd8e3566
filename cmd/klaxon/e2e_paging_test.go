package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/pager"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// pagingPerson adds a user with a verified phone (texts and calls) and a
// verified email address; empty values are left out.
func pagingPerson(t testing.TB, h *harness, handle, number, email string) store.User {
	t.Helper()
	ctx := context.Background()
	u, err := h.store.CreateUser(ctx, store.User{Handle: handle, Name: handle, Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	add := func(m klaxon.Medium, addr string) {
		c, err := h.store.AddContact(ctx, store.Contact{UserID: u.ID, Type: m, Address: addr})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.MarkContactVerified(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if number != "" {
		add(klaxon.SMS, number)
		add(klaxon.Voice, number)
	}
	if email != "" {
		add(klaxon.Email, email)
	}
	return u
}

// pageView is GET /api/v1/pages/{id} as tests read it.
type pageJSON struct {
	ID         int64          `json:"id"`
	Status     string         `json:"status"`
	AckedBy    string         `json:"acked_by"`
	ResolvedBy string         `json:"resolved_by"`
	WorkflowID string         `json:"workflow_id"`
	Events     []paging.Event `json:"events"`
}

func (h *harness) createPage(t testing.TB, body map[string]any) (id int64, status int) {
	t.Helper()
	var out struct {
		ID         int64  `json:"id"`
		WorkflowID string `json:"workflow_id"`
		Error      string `json:"error"`
	}
	status = h.api(http.MethodPost, "/api/v1/pages", body, &out)
	if status == http.StatusAccepted && out.WorkflowID != workflows.PageWorkflowID(h.cfg.TaskQueue, out.ID) {
		t.Errorf("workflow id %q for page %d", out.WorkflowID, out.ID)
	}
	return out.ID, status
}

func (h *harness) page(t testing.TB, id int64) pageJSON {
	t.Helper()
	var p pageJSON
	if code := h.api(http.MethodGet, fmt.Sprintf("/api/v1/pages/%d", id), nil, &p); code != http.StatusOK {
		t.Fatalf("GET page %d: %d", id, code)
	}
	return p
}

func (h *harness) waitPageStatus(t testing.TB, id int64, status string) pageJSON {
	t.Helper()
	var p pageJSON
	h.eventually(fmt.Sprintf("page %d %s", id, status), func() bool {
		p = h.page(t, id)
		return p.Status == status
	})
	return p
}

func hasEvent(p pageJSON, kind string, medium klaxon.Medium) bool {
	for _, e := range p.Events {
		if e.Kind == kind && (medium == "" || e.Medium == medium) {
			return true
		}
	}
	return false
}

// pageSearchStatus reads the page workflow's KlaxonPageStatus.
func (h *harness) pageSearchStatus(t testing.TB, id int64) string {
	t.Helper()
	d, err := h.temporal.DescribeWorkflowExecution(context.Background(), workflows.PageWorkflowID(h.cfg.TaskQueue, id), "")
	if err != nil {
		t.Fatal(err)
	}
	f := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["KlaxonPageStatus"]
	if f == nil {
		return ""
	}
	return strings.Trim(string(f.GetData()), `"`)
}

func TestE2E_Paging_TextThenCallThenKeypressAcknowledges(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice = "+15555550123"
	pagingPerson(t, h, "alice", alice, "alice@example.com")
	h.sim.SetBehaviour(alice, simulator.Behaviour{Answer: simulator.AnswerHuman, Press: "1"})

	id, code := h.createPage(t, map[string]any{"target": "user:alice", "summary": "derp is broken", "escalate_after_seconds": 2})
	if code != http.StatusAccepted {
		t.Fatalf("create page: %d", code)
	}
	sms := h.waitText(alice, "derp is broken")
	if sms.Body != "Page #1: derp is broken. Reply 1a to ack, 1c to resolve." || sms.From != hPagingNumber {
		t.Errorf("page text = %q from %s", sms.Body, sms.From)
	}
	// Ignored: two seconds later the phone rings; alice presses 1.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := h.sim.WaitCall(ctx, alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(call.Digits) != 1 || call.Digits[0] != "1" {
		t.Errorf("digits = %v", call.Digits)
	}
	heard := strings.Join(call.Transcript, " | ")
	if !strings.Contains(heard, "urgent page 1, reply code 1.") || !strings.Contains(heard, "| Derp is broken. |") || !strings.Contains(heard, "press 1") || !strings.Contains(heard, "acknowledged") {
		t.Errorf("call transcript = %s", heard)
	}
	p := h.waitPageStatus(t, id, paging.StatusAcked)
	if p.AckedBy != "alice" {
		t.Errorf("acked by %q", p.AckedBy)
	}
	for _, want := range []struct {
		kind   string
		medium klaxon.Medium
	}{{paging.EventCreated, ""}, {paging.EventNotified, klaxon.SMS}, {paging.EventNotified, klaxon.Voice}, {paging.EventAcked, ""}} {
		if !hasEvent(p, want.kind, want.medium) {
			t.Errorf("timeline lacks %s %s: %+v", want.kind, want.medium, p.Events)
		}
	}
	h.eventually("delivery statuses in the timeline", func() bool {
		p = h.page(t, id)
		return hasEvent(p, paging.EventDelivery, klaxon.SMS) && hasEvent(p, paging.EventDelivery, klaxon.Voice)
	})
	if got := h.pageSearchStatus(t, id); got != paging.StatusAcked {
		t.Errorf("KlaxonPageStatus = %q", got)
	}
	// The email was due at +4 s: the ack canceled it.
	time.Sleep(4 * time.Second)
	if mails := h.sink.Inbox("alice@example.com"); len(mails) != 0 {
		t.Errorf("%d emails after the ack", len(mails))
	}
	if n := len(h.sim.Inbox(alice)); n != 1 {
		t.Errorf("%d texts, want 1", n)
	}
	// The call's message, by the id the timeline names: every attempt has
	// an outcome.
	out, err := h.cli("message", "show", fmt.Sprintf("page/%d/0/1/voice", id))
	if err != nil || !strings.Contains(out, "accepted") || strings.Contains(out, "started") {
		t.Errorf("message show of the call: %v\n%s", err, out)
	}
}

func TestE2E_Paging_TextRepliesAcknowledgeAndResolve(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice, bob, stranger = "+15555550123", "+15555550124", "+15555550666"
	pagingPerson(t, h, "alice", alice, "")
	pagingPerson(t, h, "bob", bob, "")
	// Bob's page comes first, so alice's page is #2 and her reply code 1:
	// her texts name both, as two things.
	h.createPage(t, map[string]any{"target": "user:bob", "summary": "cert expires"})
	h.waitText(bob, "Page #1: cert expires.")
	id, _ := h.createPage(t, map[string]any{"target": "user:alice", "summary": "disk full on db-1"})
	h.waitText(alice, "Page #2: disk full on db-1. Reply 1a to ack, 1c to resolve.")

	h.text(stranger, hPagingNumber, "1a")
	h.waitText(stranger, "no open pages")
	if p := h.page(t, id); p.Status != paging.StatusOpen {
		t.Fatalf("a stranger's reply changed the page: %s", p.Status)
	}

	h.text(alice, hPagingNumber, "1 A")
	h.waitText(alice, "Acknowledged page #2: disk full on db-1. Reply 1c to resolve it.")
	p := h.page(t, id)
	if p.Status != paging.StatusAcked || p.AckedBy != "alice" || !hasEvent(p, paging.EventReply, klaxon.SMS) {
		t.Fatalf("after 1a: %+v", p)
	}
	h.text(alice, hPagingNumber, "ack")
	h.waitText(alice, "Page #2 was already acknowledged by you.")
	h.text(alice, hPagingNumber, "close 1")
	h.waitText(alice, "Resolved page #2: disk full on db-1.")
	h.waitPageStatus(t, id, paging.StatusResolved)
	// A late ack gets a clear answer, and pages nobody.
	h.text(alice, hPagingNumber, "1a")
	h.waitText(alice, "Page #2 (disk full on db-1) is already resolved by you.")
	h.text(alice, hPagingNumber, "what?")
	h.waitText(alice, "Sorry, I did not understand that.")
	var list struct {
		Pages []paging.Page `json:"pages"`
	}
	h.api(http.MethodGet, "/api/v1/pages", nil, &list)
	if len(list.Pages) != 2 {
		t.Errorf("%d pages, want 2: a late ack must not create one", len(list.Pages))
	}
	if n := countTexts(h, alice, "Page #2:"); n != 1 {
		t.Errorf("%d page texts, want 1", n)
	}
}

func TestE2E_Paging_GetNowBlastsEveryContactFromAVerifiedSender(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice, lincoln = "+15555550123", "+15555550124"
	pagingPerson(t, h, "alice", alice, "alice@example.com")
	pagingPerson(t, h, "alincoln", lincoln, "")
	h.sim.SetBehaviour(alice, simulator.Behaviour{Answer: simulator.AnswerNoAnswer})

	h.text(lincoln, hPagingNumber, "get alice now: derp is broken")
	h.waitText(lincoln, "Paging alice now on every channel (page #1).")
	h.waitText(alice, "alincoln needs you now (page #1): derp is broken. Reply 1a to ack, 1c to resolve.")
	h.waitMail("alice@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Subject, "derp is broken") })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.sim.WaitCall(ctx, alice, nil); err != nil {
		t.Fatal(err)
	}
	p := h.page(t, 1)
	if p.Status != paging.StatusOpen || !hasEvent(p, paging.EventCreated, "") {
		t.Errorf("page = %+v", p)
	}
	// A stranger cannot page anyone.
	h.text("+15555550777", hPagingNumber, "get alice now: hi")
	h.waitText("+15555550777", "only people whose phone number is verified")
}

// TestE2E_Paging_GetNowKeepsTheBrand is the regression test for pages
// started by text losing KLAXON_BRAND: the API and the SMS path start a page
// through the same function, so both emails name the deployment's brand.
func TestE2E_Paging_GetNowKeepsTheBrand(t *testing.T) {
	h := newHarness(t, harnessOptions{Env: map[string]string{"KLAXON_BRAND": "Acme Ops"}})
	const alice, lincoln = "+15555550123", "+15555550124"
	pagingPerson(t, h, "alice", alice, "alice@example.com")
	pagingPerson(t, h, "alincoln", lincoln, "")
	h.sim.SetBehaviour(alice, simulator.Behaviour{Answer: simulator.AnswerNoAnswer})

	h.text(lincoln, hPagingNumber, "get alice now: derp is broken")
	h.waitText(lincoln, "Paging alice now on every channel (page #1).")
	m := h.waitMail("alice@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Subject, "derp is broken") })
	if !strings.HasPrefix(m.Subject, "[Acme Ops] Page #1: ") {
		t.Errorf("subject of a page started by text = %q, want it to name the brand", m.Subject)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	h.api(http.MethodPost, "/api/v1/pages", map[string]any{"target": "user:alice", "summary": "api page", "mode": "blast"}, &created)
	m = h.waitMail("alice@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Subject, "api page") })
	if want := fmt.Sprintf("[Acme Ops] Page #%d: ", created.ID); !strings.HasPrefix(m.Subject, want) {
		t.Errorf("subject of a page started by the API = %q, want prefix %q", m.Subject, want)
	}
}

func TestE2E_Paging_APIAckResolveAndLateAck(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pagingPerson(t, h, "alice", "+15555550123", "")
	id, _ := h.createPage(t, map[string]any{"target": "user:alice", "summary": "derp"})
	path := fmt.Sprintf("/api/v1/pages/%d", id)
	var out map[string]any
	if code := h.api(http.MethodPost, path+"/ack", map[string]string{"by": "bob"}, &out); code != http.StatusOK || out["status"] != "acked" || out["changed"] != true {
		t.Fatalf("ack: %d %v", code, out)
	}
	if code := h.api(http.MethodPost, path+"/ack", nil, &out); code != http.StatusOK || out["changed"] != false || out["acked_by"] != "bob" {
		t.Fatalf("second ack: %d %v", code, out)
	}
	if code := h.api(http.MethodPost, path+"/resolve", nil, &out); code != http.StatusOK || out["status"] != "resolved" {
		t.Fatalf("resolve: %d %v", code, out)
	}
	if code := h.api(http.MethodPost, path+"/ack", nil, &out); code != http.StatusConflict || !strings.Contains(fmt.Sprint(out["error"]), "already resolved") {
		t.Fatalf("late ack: %d %v", code, out)
	}
	if code := h.api(http.MethodPost, path+"/resolve", nil, &out); code != http.StatusOK || out["changed"] != false {
		t.Fatalf("second resolve: %d %v", code, out)
	}
	// A keypress arriving after the page's workflow has ended (its call was
	// still up) hears the page is resolved, and changes nothing.
	h.eventually("page workflow ended", func() bool {
		d, err := h.temporal.DescribeWorkflowExecution(context.Background(), workflows.PageWorkflowID(h.cfg.TaskQueue, id), "")
		return err == nil && d.GetWorkflowExecutionInfo().GetCloseTime() != nil
	})
	res, err := pager.Apply(context.Background(), h.temporal, h.store, pager.Update{
		PageID: id, WorkflowID: workflows.PageWorkflowID(h.cfg.TaskQueue, id), Name: workflows.UpdateAck,
		Status: paging.StatusAcked, Action: paging.Action{By: "carol", Via: "call"},
	})
	if err != nil || res.Changed || res.Status != paging.StatusResolved {
		t.Fatalf("ack of an ended page: %+v %v", res, err)
	}
	var list struct {
		Pages []paging.Page `json:"pages"`
	}
	h.api(http.MethodGet, "/api/v1/pages?status=open", nil, &list)
	if len(list.Pages) != 0 {
		t.Errorf("open pages: %+v", list.Pages)
	}
	h.api(http.MethodGet, "/api/v1/pages?status=resolved", nil, &list)
	if len(list.Pages) != 1 || list.Pages[0].ID != id {
		t.Errorf("resolved pages: %+v", list.Pages)
	}
	if code := h.api(http.MethodPost, "/api/v1/pages/999/ack", nil, &out); code != http.StatusNotFound {
		t.Errorf("ack of a missing page: %d", code)
	}
}

func TestE2E_Paging_DedupKeyReturnsTheLivePage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice = "+15555550123"
	pagingPerson(t, h, "alice", alice, "")
	body := map[string]any{"target": "user:alice", "summary": "disk full", "dedup_key": "db-1/disk"}
	first, code := h.createPage(t, body)
	if code != http.StatusAccepted {
		t.Fatalf("first: %d", code)
	}
	again, code := h.createPage(t, body)
	if code != http.StatusOK || again != first {
		t.Fatalf("same key: %d page %d, want 200 page %d", code, again, first)
	}
	h.waitText(alice, "disk full")
	h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/resolve", first), nil, nil)
	third, code := h.createPage(t, body)
	if code != http.StatusAccepted || third == first {
		t.Fatalf("after resolve: %d page %d", code, third)
	}
	h.eventually("second page text", func() bool { return countTexts(h, alice, "disk full") == 2 })
}

func TestE2E_Paging_RefusesWhatCannotBePaged(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pagingPerson(t, h, "alice", "+15555550123", "")
	if _, err := h.store.CreateUser(context.Background(), store.User{Handle: "carol", Name: "Carol", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		body any
		code int
		says string
	}{
		{"unknown user", map[string]any{"target": "user:bob", "summary": "x"}, 422, `There is no user "bob".`},
		{"no verified method", map[string]any{"target": "user:carol", "summary": "x"}, 422, "carol has no verified contact method"},
		{"unknown policy", map[string]any{"target": "policy:db", "summary": "x"}, 422, `There is no policy "db".`},
		{"unknown rotation", map[string]any{"target": "rotation:ops", "summary": "x"}, 422, "rotation"},
		{"bad target", map[string]any{"target": "team:ops", "summary": "x"}, 400, "Unknown target kind"},
		{"no target", map[string]any{"summary": "x"}, 400, `"target" is required`},
		{"blank summary", map[string]any{"target": "user:alice", "summary": "  "}, 400, `"summary" is required`},
		{"bad mode", map[string]any{"target": "user:alice", "summary": "x", "mode": "shout"}, 400, "Unknown mode"},
		{"bad escalation", map[string]any{"target": "user:alice", "summary": "x", "escalate_after_seconds": 0}, 400, "escalate_after_seconds"},
		{"not json", "target=user:alice", 400, "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out struct {
				Error string `json:"error"`
			}
			code := h.api(http.MethodPost, "/api/v1/pages", tc.body, &out)
			if code != tc.code || !strings.Contains(out.Error, tc.says) {
				t.Errorf("%d %q, want %d containing %q", code, out.Error, tc.code, tc.says)
			}
		})
	}
	var list struct {
		Pages []paging.Page `json:"pages"`
	}
	h.api(http.MethodGet, "/api/v1/pages", nil, &list)
	if len(list.Pages) != 0 {
		t.Errorf("refused requests created pages: %+v", list.Pages)
	}
}

func TestE2E_Paging_PolicyStepsAndAMachineCannotAcknowledge(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice, bob = "+15555550123", "+15555550124"
	pagingPerson(t, h, "alice", alice, "alice@example.com")
	pagingPerson(t, h, "bob", bob, "")
	// Alice's voicemail picks up: it hears the page, cannot acknowledge,
	// and her email goes out at once instead of at its time.
	h.sim.SetBehaviour(alice, simulator.Behaviour{Answer: simulator.AnswerMachine, Press: "1"})
	policy := map[string]any{"name": "db", "repeat": 0, "steps": []map[string]any{
		{"targets": []string{"user:alice"}, "delay_seconds": 6},
		{"targets": []string{"user:bob"}, "delay_seconds": 60},
	}}
	if code := h.api(http.MethodPost, "/api/v1/policies", policy, nil); code != http.StatusCreated {
		t.Fatalf("create policy: %d", code)
	}
	if code := h.api(http.MethodPost, "/api/v1/policies", policy, nil); code != http.StatusConflict {
		t.Errorf("same policy again: %d", code)
	}
	var out struct {
		Error string `json:"error"`
	}
	bad := map[string]any{"name": "x", "steps": []map[string]any{{"targets": []string{"user:nobody"}}}}
	if code := h.api(http.MethodPost, "/api/v1/policies", bad, &out); code != 422 || !strings.Contains(out.Error, "no user") {
		t.Errorf("policy naming nobody: %d %q", code, out.Error)
	}
	start := time.Now()
	id, code := h.createPage(t, map[string]any{"target": "policy:db", "summary": "replication stopped", "escalate_after_seconds": 2})
	if code != http.StatusAccepted {
		t.Fatalf("page policy: %d", code)
	}
	h.waitText(alice, "replication stopped")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call, err := h.sim.WaitCall(ctx, alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(call.Digits) != 0 || !strings.HasPrefix(call.AnsweredBy, "machine") {
		t.Errorf("machine call: %+v", call)
	}
	h.waitMail("alice@example.com", nil)
	if took := time.Since(start); took > 3900*time.Millisecond {
		t.Errorf("email took %s; the voicemail should have moved alice on at once (its time was +4 s)", took)
	}
	// Step 2: bob, 2 s later (escalate_after_seconds overrides the step's 6 s).
	h.waitText(bob, "replication stopped")
	p := h.page(t, id)
	if p.Status != paging.StatusOpen {
		t.Errorf("a machine acknowledged the page: %+v", p)
	}
	h.text(bob, hPagingNumber, "1a")
	h.waitText(bob, "Acknowledged page #1")
}

func TestE2E_Paging_WorkerKilledMidEscalationResumesWithoutRepeats(t *testing.T) {
	h := newHarness(t, harnessOptions{SplitWorker: true})
	const alice = "+15555550123"
	pagingPerson(t, h, "alice", alice, "alice@example.com")
	h.sim.SetBehaviour(alice, simulator.Behaviour{Answer: simulator.AnswerNoAnswer})
	// Text at once, call at +5 s, email at +10 s, all over again at +20 s.
	id, _ := h.createPage(t, map[string]any{"target": "user:alice", "summary": "derp", "escalate_after_seconds": 5})
	start := time.Now()
	h.waitText(alice, "derp")
	// Mid-escalation: the text is out and recorded, the call not yet due.
	h.eventually("the text in the timeline", func() bool { return hasEvent(h.page(t, id), paging.EventNotified, klaxon.SMS) })
	time.Sleep(300 * time.Millisecond)
	h.stopWorker()
	time.Sleep(5 * time.Second) // the call falls due while no worker runs
	h.startWorker()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.sim.WaitCall(ctx, alice, nil); err != nil {
		t.Fatal(err)
	}
	// The unanswered call moves alice to email at once.
	h.waitMail("alice@example.com", nil)
	h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/ack", id), nil, nil)
	if took := time.Since(start); took > 19*time.Second {
		t.Fatalf("took %s: the second round (+20 s) may have begun; the test proves nothing", took)
	}
	if n := len(h.sim.Inbox(alice)); n != 1 {
		t.Errorf("%d texts after the restart, want 1: %+v", n, h.sim.Inbox(alice))
	}
	if n := len(h.sim.Calls(alice)); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
	if n := len(h.sink.Inbox("alice@example.com")); n != 1 {
		t.Errorf("%d emails, want 1", n)
	}
}

func TestE2E_Paging_AckCancelsATextQueuedForTheRateLimit(t *testing.T) {
	// One text per second from the paging number: five pages at once queue
	// four texts. Acknowledging the last page must stop its queued text.
	h := newHarness(t, harnessOptions{Env: map[string]string{"KLAXON_SEND_RATE": "1"}})
	var numbers []string
	for i := range 5 {
		n := fmt.Sprintf("+1555555%04d", 200+i)
		numbers = append(numbers, n)
		pagingPerson(t, h, fmt.Sprintf("p%d", i), n, "")
	}
	var ids []int64
	for i := range 5 {
		id, code := h.createPage(t, map[string]any{"target": fmt.Sprintf("user:p%d", i), "summary": "queued", "escalate_after_seconds": 600})
		if code != http.StatusAccepted {
			t.Fatalf("page %d: %d", i, code)
		}
		ids = append(ids, id)
	}
	last := ids[len(ids)-1]
	acked := time.Now()
	if code := h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/ack", last), nil, nil); code != http.StatusOK {
		t.Fatalf("ack: %d", code)
	}
	// The other four drain at one a second; the acknowledged one never goes.
	for _, n := range numbers[:4] {
		h.waitText(n, "queued")
	}
	time.Sleep(3 * time.Second)
	if inbox := h.sim.Inbox(numbers[4]); len(inbox) != 0 {
		t.Errorf("the acknowledged page's text was sent %s after the ack", inbox[0].Created.Sub(acked))
	}
	m, _, _, err := h.store.GetMessage(context.Background(), fmt.Sprintf("page/%d/0/0/sms", last))
	if err == nil && m.Status != klaxon.StatusCanceled {
		t.Errorf("queued text status %q, want canceled", m.Status)
	}
	// Its fate is in the page's timeline, not only in the workflow's state.
	h.eventually("the canceled text in the timeline", func() bool { return hasEvent(h.page(t, last), paging.EventCanceled, klaxon.SMS) })
	out, err := h.cli("page", "show", strconv.FormatInt(last, 10))
	if err != nil || !strings.Contains(out, "canceled") || !strings.Contains(out, "not sent: the page was acknowledged") {
		t.Errorf("page show: %v\n%s", err, out)
	}
	if path := os.Getenv("KLAXON_RECORD_HISTORY"); path != "" {
		if code := h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/resolve", last), nil, nil); code != http.StatusOK {
			t.Fatalf("resolve: %d", code)
		}
		recordHistory(t, h, workflows.PageWorkflowID(h.cfg.TaskQueue, last), path)
	}
}

func TestE2E_Paging_CLI(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	pagingPerson(t, h, "alice", "+15555550123", "")
	out, err := h.cli("page", "--target", "user:alice", "--summary", "cli page", "--dedup-key", "k1")
	if err != nil || strings.TrimSpace(out) != "1" {
		t.Fatalf("page: %q %v", out, err)
	}
	if out, err = h.cli("page", "show", "1", "--json"); err != nil || !strings.Contains(out, `"status": "open"`) || !strings.Contains(out, `"events"`) {
		t.Fatalf("page show --json: %q %v", out, err)
	}
	// For people: text, the timeline in the order things happened.
	if out, err = h.cli("page", "show", "1"); err != nil || !regexp.MustCompile(`(?m)^Page +#1$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Status +open$`).MatchString(out) || !strings.Contains(out, "Timeline:") || strings.Contains(out, "{") {
		t.Fatalf("page show: %q %v", out, err)
	}
	_, timeline, _ := strings.Cut(out, "Timeline:\n")
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(timeline), "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	if !slices.IsSorted(lines) || !strings.Contains(lines[0], " created ") {
		t.Fatalf("page show timeline out of order: %q", timeline)
	}
	if out, err = h.cli("page", "list", "--status", "open"); err != nil || !strings.Contains(out, "cli page") {
		t.Fatalf("page list: %q %v", out, err)
	}
	if out, err = h.cli("ack", "1"); err != nil || !strings.HasPrefix(out, "Acknowledged page #1:") {
		t.Fatalf("ack: %q %v", out, err)
	}
	if out, err = h.cli("resolve", "1", "--by", "alice"); err != nil || !strings.HasPrefix(out, "Resolved page #1.") {
		t.Fatalf("resolve: %q %v", out, err)
	}
	if _, err = h.cli("ack", "1"); err == nil || !strings.Contains(err.Error(), "already resolved") {
		t.Fatalf("late ack: %v", err)
	}
	if out, err = h.cli("policy", "add", "db", "--step", "user:alice@90s", "--step", "user:alice,user:alice@5m"); err == nil {
		t.Fatalf("policy with a duplicate target accepted: %q", out)
	}
	if out, err = h.cli("policy", "add", "db", "--step", "user:alice@90s", "--repeat", "1"); err != nil || strings.TrimSpace(out) != "db" {
		t.Fatalf("policy add: %q %v", out, err)
	}
	if out, err = h.cli("policy", "list"); err != nil || !strings.Contains(out, "user:alice@1m30s") {
		t.Fatalf("policy list: %q %v", out, err)
	}
	if _, err = h.cli("page", "--target", "user:nobody", "--summary", "x"); err == nil || !strings.Contains(err.Error(), "no user") {
		t.Fatalf("page nobody: %v", err)
	}
}

func TestE2E_Paging_AckHangsUpTheOtherCalls(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice, bob = "+15555550123", "+15555550124"
	pagingPerson(t, h, "alice", alice, "")
	pagingPerson(t, h, "bob", bob, "")
	h.sim.SetBehaviour(alice, simulator.Behaviour{Answer: simulator.AnswerHuman, Press: "1", RingDelay: 500 * time.Millisecond})
	h.sim.SetBehaviour(bob, simulator.Behaviour{Answer: simulator.AnswerHuman, RingDelay: 20 * time.Second})
	policy := map[string]any{"name": "everyone", "steps": []map[string]any{{"targets": []string{"user:alice", "user:bob"}, "delay_seconds": 600}}}
	if code := h.api(http.MethodPost, "/api/v1/policies", policy, nil); code != http.StatusCreated {
		t.Fatalf("policy: %d", code)
	}
	id, _ := h.createPage(t, map[string]any{"target": "policy:everyone", "summary": "all hands", "mode": "blast"})
	start := time.Now()
	p := h.waitPageStatus(t, id, paging.StatusAcked)
	if p.AckedBy != "alice" {
		t.Errorf("acked by %q", p.AckedBy)
	}
	// Bob's phone would ring for 20 s; the ack hangs it up.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	call, err := h.sim.WaitCall(ctx, bob, nil)
	if err != nil {
		t.Fatalf("bob's call was not hung up: %v (calls: %+v)", err, h.sim.Calls(bob))
	}
	if call.Status != "canceled" && call.Status != "completed" {
		t.Errorf("bob's call ended %q", call.Status)
	}
	t.Logf("bob's call ended %s after the page, %q", time.Since(start).Round(time.Millisecond), call.Status)
	// Alice's own call was not cut: she heard the confirmation.
	aliceCall := h.sim.Calls(alice)[0]
	if heard := strings.Join(aliceCall.Transcript, " | "); !strings.Contains(heard, "acknowledged") {
		t.Errorf("alice heard %s", heard)
	}
}

func TestE2E_Paging_NotificationRulesDecideTheOrder(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice = "+15555550123"
	pagingPerson(t, h, "alice", alice, "alice@example.com")
	h.sim.SetBehaviour(alice, simulator.Behaviour{Answer: simulator.AnswerNoAnswer})
	var out struct {
		Rules []paging.NotificationRule `json:"rules"`
		Error string                    `json:"error"`
	}
	if code := h.api(http.MethodGet, "/api/v1/users/alice/notification-rules", nil, &out); code != http.StatusOK || len(out.Rules) != 3 {
		t.Fatalf("defaults: %d %+v", code, out)
	}
	rules := map[string]any{"rules": []map[string]any{{"medium": "voice", "delay_seconds": 0}, {"medium": "email", "delay_seconds": 600}}}
	if code := h.api(http.MethodPut, "/api/v1/users/alice/notification-rules", rules, &out); code != http.StatusOK || len(out.Rules) != 2 || out.Rules[0].Medium != klaxon.Voice {
		t.Fatalf("set rules: %d %+v", code, out)
	}
	bad := map[string]any{"rules": []map[string]any{{"medium": "pigeon", "delay_seconds": 0}}}
	if code := h.api(http.MethodPut, "/api/v1/users/alice/notification-rules", bad, &out); code != http.StatusBadRequest || !strings.Contains(out.Error, "pigeon") {
		t.Errorf("bad medium: %d %q", code, out.Error)
	}
	if code := h.api(http.MethodPut, "/api/v1/users/ghost/notification-rules", rules, &out); code != http.StatusNotFound {
		t.Errorf("unknown user: %d", code)
	}
	h.createPage(t, map[string]any{"target": "user:alice", "summary": "call me first"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.sim.WaitCall(ctx, alice, nil); err != nil {
		t.Fatal(err)
	}
	// The unanswered call moves alice on to her next rule (email) at once;
	// she has no rule for texts, so none comes.
	h.waitMail("alice@example.com", nil)
	if n := len(h.sim.Inbox(alice)); n != 0 {
		t.Errorf("%d texts, want none: her rules name no texts", n)
	}
}
