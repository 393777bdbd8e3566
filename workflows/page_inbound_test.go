package workflows

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/paging"
)

func TestParsePageCommand(t *testing.T) {
	tests := []struct {
		in   string
		want pageCommand
	}{
		{"3a", pageCommand{kind: cmdAck, code: 3}},
		{"3 a", pageCommand{kind: cmdAck, code: 3}},
		{"3A", pageCommand{kind: cmdAck, code: 3}},
		{" 3a. ", pageCommand{kind: cmdAck, code: 3}},
		{"#3a", pageCommand{kind: cmdAck, code: 3}},
		{"ack 3", pageCommand{kind: cmdAck, code: 3}},
		{"ACK 3", pageCommand{kind: cmdAck, code: 3}},
		{"Ack #12", pageCommand{kind: cmdAck, code: 12}},
		{"ack3", pageCommand{kind: cmdAck, code: 3}},
		{"3 ack", pageCommand{kind: cmdAck, code: 3}},
		{"acknowledge 4", pageCommand{kind: cmdAck, code: 4}},
		{"a", pageCommand{kind: cmdAck}},
		{"A", pageCommand{kind: cmdAck}},
		{"ack", pageCommand{kind: cmdAck}},
		{"Ack!", pageCommand{kind: cmdAck}},
		{"3c", pageCommand{kind: cmdResolve, code: 3}},
		{"3 C", pageCommand{kind: cmdResolve, code: 3}},
		{"close 3", pageCommand{kind: cmdResolve, code: 3}},
		{"call 3", pageCommand{kind: cmdCall, code: 3}},
		{"3r", pageCommand{kind: cmdCall, code: 3}},
		{"3 R", pageCommand{kind: cmdCall, code: 3}},
		{"Call", pageCommand{kind: cmdCall}},
		{"call 0", pageCommand{kind: cmdUnknown}},
		{"Close 3", pageCommand{kind: cmdResolve, code: 3}},
		{"resolve 9999", pageCommand{kind: cmdResolve, code: 9999}},
		{"close", pageCommand{kind: cmdResolve}},
		{"get alice now: derp is broken", pageCommand{kind: cmdGetNow, handle: "alice", message: "derp is broken"}},
		{"GET Alice NOW: Derp  is\nbroken", pageCommand{kind: cmdGetNow, handle: "alice", message: "Derp is broken"}},
		{"get @alice now derp is broken", pageCommand{kind: cmdGetNow, handle: "alice", message: "derp is broken"}},
		{"get alice now:", pageCommand{kind: cmdUnknown}},
		{"get alice later: x", pageCommand{kind: cmdUnknown}},
		{"help", pageCommand{kind: cmdHelp}},
		{"HELP", pageCommand{kind: cmdHelp}},
		{"0a", pageCommand{kind: cmdUnknown}},
		{"12345a", pageCommand{kind: cmdUnknown}},
		{"3x", pageCommand{kind: cmdUnknown}},
		{"thanks", pageCommand{kind: cmdUnknown}},
		{"", pageCommand{kind: cmdUnknown}},
		{"a a", pageCommand{kind: cmdUnknown}},
		{"3ac", pageCommand{kind: cmdUnknown}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := parsePageCommand(tc.in); got != tc.want {
				t.Errorf("parsePageCommand(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func FuzzParsePageCommand(f *testing.F) {
	for _, s := range []string{"3a", "ack 3", "close 12", "a", "get alice now: x", "help", "3 c", "#7A."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cmd := parsePageCommand(body)
		switch cmd.kind {
		case cmdAck, cmdResolve:
			if cmd.code < 0 || cmd.code > 9999 {
				t.Fatalf("code %d out of range for %q", cmd.code, body)
			}
			if cmd.handle != "" || cmd.message != "" {
				t.Fatalf("ack carries get-now fields: %+v", cmd)
			}
			if len(strings.TrimSpace(body)) > 40 {
				t.Fatalf("a long text %q read as a reply code", body)
			}
		case cmdGetNow:
			if cmd.handle == "" || strings.TrimSpace(cmd.message) == "" {
				t.Fatalf("get-now without a handle or message: %+v from %q", cmd, body)
			}
			if _, err := paging.ParseTarget("user:" + cmd.handle); err != nil {
				t.Fatalf("handle %q is not a valid name: %v", cmd.handle, err)
			}
			if utf8.ValidString(body) && !utf8.ValidString(cmd.message) {
				t.Fatalf("message is not valid utf-8")
			}
		}
	})
}

// inboundRig runs pagingText and pageKeypress in a test workflow against
// fakes of the paging activities.
type inboundRig struct {
	target   activities.ReplyTarget
	update   paging.ActionResult
	request  activities.RequestedPage
	allowErr bool

	updates  []activities.UpdatePageInput
	started  []PageInput
	errClaim int
}

func (ir *inboundRig) run(t *testing.T, fn func(workflow.Context) (string, error)) string {
	t.Helper()
	env := newTestEnv()
	Register(env, Deps{})
	reg := func(f any, name string) { Override(env, f, name) }
	reg(func(_ context.Context, in activities.ReplyInput) (activities.ReplyTarget, error) {
		return ir.target, nil
	}, ActivityPageFindReplyTarget)
	reg(func(_ context.Context, in activities.UpdatePageInput) (paging.ActionResult, error) {
		ir.updates = append(ir.updates, in)
		return ir.update, nil
	}, ActivityPageUpdate)
	reg(func(_ context.Context, in activities.RequestPageInput) (activities.RequestedPage, error) {
		return ir.request, nil
	}, ActivityPageRequest)
	reg(func(_ context.Context, in activities.ErrorReplyInput) (bool, error) {
		ir.errClaim++
		return ir.allowErr, nil
	}, ActivityPageClaimErrorReply)
	reg(func(_ context.Context, in activities.KeypressInput) (activities.CallPage, error) {
		if in.MessageID == "page/7/0/1/voice" {
			return activities.CallPage{PageID: 7, By: "alice"}, nil
		}
		return activities.CallPage{}, nil
	}, ActivityPageFindCall)
	OverrideWorkflow(env, func(ctx workflow.Context, in PageInput) (PageResult, error) {
		ir.started = append(ir.started, in)
		return PageResult{}, nil
	}, WorkflowPage)
	env.RegisterWorkflowWithOptions(fn, workflowOpts("PagingTextTest"))
	env.ExecuteWorkflow("PagingTextTest")
	var reply string
	if err := env.GetWorkflowResult(&reply); err != nil {
		t.Fatal(err)
	}
	return reply
}

func text(body string) func(workflow.Context) (string, error) {
	return func(ctx workflow.Context) (string, error) {
		a, err := pagingText(ctx, InboundText{EventID: 41, SID: "SM41", From: "+15555550123", To: "+15555550100", Body: body})
		return a.body, err
	}
}

func TestPagingText_AnswersEveryReply(t *testing.T) {
	open := activities.ReplyTarget{PageID: 7, Code: 3, Summary: "derp is broken", Status: paging.StatusOpen, By: "alice"}
	acked := open
	acked.Status, acked.Settled = paging.StatusAcked, "bob"
	resolved := open
	resolved.Status, resolved.Settled = paging.StatusResolved, "bob"
	tests := []struct {
		name       string
		body       string
		target     activities.ReplyTarget
		update     paging.ActionResult
		allowErr   bool
		want       string
		wantUpdate string
	}{
		{"ack by code", "3a", open, paging.ActionResult{Status: paging.StatusAcked, By: "alice", Changed: true}, false,
			"Acknowledged page #7: derp is broken. Reply 3c to resolve it.", UpdateAck},
		{"resolve by code", "close 3", open, paging.ActionResult{Status: paging.StatusResolved, By: "alice", Changed: true}, false,
			"Resolved page #7: derp is broken.", UpdateResolve},
		{"resolve an acked page", "3c", acked, paging.ActionResult{Status: paging.StatusResolved, By: "alice", Changed: true}, false,
			"Resolved page #7: derp is broken.", UpdateResolve},
		{"ack raced by someone else", "ack", open, paging.ActionResult{Status: paging.StatusAcked, By: "bob"}, false,
			"Page #7 was already acknowledged by bob. Reply 3c to resolve it.", UpdateAck},
		{"ack an acked page", "3a", acked, paging.ActionResult{}, false,
			"Page #7 was already acknowledged by bob. Reply 3c to resolve it.", ""},
		{"late ack after resolve", "3a", resolved, paging.ActionResult{}, false,
			"Page #7 (derp is broken) is already resolved by bob.", ""},
		{"no open pages", "a", activities.ReplyTarget{Refusal: "nopage"}, paging.ActionResult{}, true,
			"You have no open pages.", ""},
		{"unknown code lists the open ones", "9a", activities.ReplyTarget{Code: 9, Refusal: "nopage", OpenCodes: []int{3, 5}}, paging.ActionResult{}, true,
			"No page of this number has reply code 9. Your open pages' reply codes are 3, 5.", ""},
		{"stranger refused politely", "3a", activities.ReplyTarget{PageID: 7, Code: 3, Refusal: "stranger"}, paging.ActionResult{}, true,
			"Sorry, this number is not a verified contact of anyone page #7 went to, so it cannot answer that page.", ""},
		{"gibberish gets help", "what is going on", open, paging.ActionResult{}, true,
			"Sorry, I did not understand that. " + pageHelp, ""},
		{"gibberish past the limit gets silence", "what is going on", open, paging.ActionResult{}, false, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ir := &inboundRig{target: tc.target, update: tc.update, allowErr: tc.allowErr}
			got := ir.run(t, text(tc.body))
			if got != tc.want {
				t.Errorf("reply = %q\nwant    %q", got, tc.want)
			}
			switch {
			case tc.wantUpdate == "" && len(ir.updates) > 0:
				t.Errorf("page updated: %+v", ir.updates)
			case tc.wantUpdate != "":
				if len(ir.updates) != 1 {
					t.Fatalf("updates = %+v", ir.updates)
				}
				u := ir.updates[0]
				if u.Update != tc.wantUpdate || u.WorkflowID != PageWorkflowID("default-test-taskqueue", 7) || u.Action.By != "alice" || u.Action.Via != "sms" {
					t.Errorf("update = %+v", u)
				}
			}
		})
	}
}

func TestPagingText_GetNowStartsABlastPage(t *testing.T) {
	ir := &inboundRig{request: activities.RequestedPage{Created: true, Requester: "alincoln", Page: paging.Page{
		ID: 12, Target: "user:alice", Summary: "derp is broken", Mode: paging.ModeBlast, Urgency: paging.UrgencyHigh,
		RequestedBy: "alincoln", Status: paging.StatusOpen,
	}}}
	got := ir.run(t, text("get alice now: derp is broken"))
	if got != "Paging alice now on every channel (page #12)." {
		t.Errorf("reply = %q", got)
	}
	if len(ir.started) != 1 || ir.started[0].PageID != 12 || ir.started[0].Mode != paging.ModeBlast || ir.started[0].RequestedBy != "alincoln" {
		t.Errorf("started = %+v", ir.started)
	}
}

func TestPagingText_GetNowFromAStrangerIsRefused(t *testing.T) {
	ir := &inboundRig{allowErr: true, request: activities.RequestedPage{Refusal: "Sorry, only people whose phone number is verified in Klaxon can page others by text."}}
	got := ir.run(t, text("get alice now: derp is broken"))
	if !strings.HasPrefix(got, "Sorry, only people") || len(ir.started) != 0 || ir.errClaim != 1 {
		t.Errorf("reply = %q, started = %v, error claims = %d", got, ir.started, ir.errClaim)
	}
}

func TestPageKeypress_OneAcknowledgesTheCallsPage(t *testing.T) {
	tests := []struct {
		name    string
		digits  string
		message string
		acks    int
	}{
		{"one acknowledges", "1", "page/7/0/1/voice", 1},
		{"other keys do nothing", "2", "page/7/0/1/voice", 0},
		{"a call that is not a page's", "1", "msg_x", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ir := &inboundRig{update: paging.ActionResult{Status: paging.StatusAcked, Changed: true}}
			ir.run(t, func(ctx workflow.Context) (string, error) {
				return "", pageKeypress(ctx, InboundKeypress{EventID: 5, CallSID: "CA1", Digits: tc.digits, MessageID: tc.message})
			})
			if len(ir.updates) != tc.acks {
				t.Fatalf("updates = %+v, want %d", ir.updates, tc.acks)
			}
			if tc.acks == 1 {
				u := ir.updates[0]
				if u.Update != UpdateAck || u.Action.By != "alice" || u.Action.Via != "call" || u.Action.CallSID != "CA1" {
					t.Errorf("update = %+v", u)
				}
			}
		})
	}
}

func TestPageWorkflowID_IsPlainOnTheDefaultQueue(t *testing.T) {
	if got := PageWorkflowID(DefaultTaskQueue, 12); got != "page/12" {
		t.Errorf("default queue: %q", got)
	}
	if got := PageWorkflowID("", 12); got != "page/12" {
		t.Errorf("no queue: %q", got)
	}
	if got := PageWorkflowID("staging", 12); got != "staging/page/12" {
		t.Errorf("other queue: %q", got)
	}
}
