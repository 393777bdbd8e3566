package workflows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

const inbSender = "+15555550123"

// inboundEvent records a text as the gateway would.
func (r *codeRig) inboundEvent(sid, from, to, body string) store.InboundEvent {
	r.t.Helper()
	e, _, err := r.db.Store.RecordInbound(context.Background(), store.InboundEvent{
		Kind: store.InboundSMS, DedupKey: sid, From: from, To: to, Body: body,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

func (r *codeRig) runInbound(e store.InboundEvent) workflows.InboundResult {
	r.t.Helper()
	r.env.ExecuteWorkflow(workflows.WorkflowInbound, workflows.InboundInput{EventID: e.ID, DedupKey: e.DedupKey})
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatal("inbound workflow did not complete")
	}
	if err := r.env.GetWorkflowError(); err != nil {
		r.t.Fatalf("inbound workflow failed: %v", err)
	}
	var res workflows.InboundResult
	if err := r.env.GetWorkflowResult(&res); err != nil {
		r.t.Fatal(err)
	}
	return res
}

func (r *codeRig) event(id int64) store.InboundEvent {
	r.t.Helper()
	e, err := r.db.Store.InboundEventByID(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return e
}

func (r *codeRig) optedOut(number string) bool {
	r.t.Helper()
	out, err := r.db.Store.IsOptedOut(context.Background(), number, codeRigPaging)
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func TestInbound_OptOutKeywordsToThePagingNumberAreMirroredAndConfirmed(t *testing.T) {
	tests := []struct {
		body      string
		optedOut  bool
		outcome   string
		confirmed string
	}{
		{"STOP", true, "opt-out", "You are unsubscribed from Klaxon"},
		{"  stop. ", true, "opt-out", "You are unsubscribed from Klaxon"},
		{"Unsubscribe", true, "opt-out", "You are unsubscribed from Klaxon"},
		{"quit", true, "opt-out", "You are unsubscribed from Klaxon"},
		{"START", false, "opt-in", "You are resubscribed to Klaxon"},
		{"unstop", false, "opt-in", "You are resubscribed to Klaxon"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			r := newCodeRig(t)
			if !tt.optedOut {
				if err := r.db.Store.OptOut(context.Background(), inbSender, codeRigPaging, "STOP"); err != nil {
					t.Fatal(err)
				}
			}
			e := r.inboundEvent("SMkw1", inbSender, codeRigPaging, tt.body)
			res := r.runInbound(e)
			if res.Outcome != tt.outcome {
				t.Errorf("outcome = %q, want %q", res.Outcome, tt.outcome)
			}
			if got := r.optedOut(inbSender); got != tt.optedOut {
				t.Errorf("opted out = %v, want %v", got, tt.optedOut)
			}
			ms := r.messages()
			if len(ms) != 1 {
				t.Fatalf("messages = %+v, want one confirmation", ms)
			}
			m := ms[0]
			if !strings.HasPrefix(m.Body, tt.confirmed) || m.To != inbSender || m.From != codeRigPaging ||
				!m.IgnoreOptOut || m.Medium != klaxon.SMS || m.ID != "inbound/SMkw1/reply" {
				t.Errorf("confirmation = %+v", m)
			}
			if ev := r.event(e.ID); ev.ProcessedAt == nil || ev.Outcome != tt.outcome {
				t.Errorf("event = %+v, want processed with outcome %s", ev, tt.outcome)
			}
		})
	}
}

func TestInbound_CodeTextedToThePagingNumberGoesToItsVerification(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, inbSender)
	if _, err := r.db.Store.SetCode(context.Background(), v.Challenge.ID, 1, []byte("s"), []byte("h"), time.Minute); err != nil {
		t.Fatal(err)
	}
	e := r.inboundEvent("SMcode", inbSender, codeRigPaging, " 123-456 ")
	if res := r.runInbound(e); res.Outcome != "code-reply" {
		t.Fatalf("outcome = %q, want code-reply", res.Outcome)
	}
	if len(r.signals) != 1 {
		t.Fatalf("signals = %+v, want one to the verification", r.signals)
	}
	s := r.signals[0]
	reply, ok := s.Arg.(workflows.CodeReply)
	if s.WorkflowID != v.Challenge.ID || s.Name != workflows.SignalCodeReply || !ok ||
		reply.EventID != e.ID {
		t.Errorf("signal = %+v", s)
	}
	// The signal names the text; the code and the sender stay in Postgres.
	if reply.Code != "" || reply.From != "" {
		t.Errorf("signal carries the code or the number: %+v", reply)
	}
	if ms := r.messages(); len(ms) != 0 {
		t.Errorf("the backbone replied itself: %+v (the verification answers)", ms)
	}
}

func TestInbound_TextFromOneOfOurOwnNumbersIsIgnored(t *testing.T) {
	r := newCodeRig(t)
	e := r.inboundEvent("SMown", codeRigPaging, "+15555550177", "STOP")
	if res := r.runInbound(e); res.Outcome != "ignored" {
		t.Fatalf("outcome = %q, want ignored", res.Outcome)
	}
	if ms := r.messages(); len(ms) != 0 {
		t.Errorf("replied to our own number: %+v", ms)
	}
	if r.optedOut(codeRigPaging) {
		t.Error("our own number was opted out")
	}
}

func TestInbound_ProcessedEventIsNotHandledAgain(t *testing.T) {
	r := newCodeRig(t)
	e := r.inboundEvent("SMdup", inbSender, codeRigPaging, "STOP")
	if _, err := r.db.Store.FinishInbound(context.Background(), e.ID, "opt-out"); err != nil {
		t.Fatal(err)
	}
	if res := r.runInbound(e); res.Outcome != "duplicate" {
		t.Fatalf("outcome = %q, want duplicate", res.Outcome)
	}
	if ms := r.messages(); len(ms) != 0 {
		t.Errorf("a processed event sent %+v", ms)
	}
}

func TestInbound_WaitsForTheSendersEarlierText(t *testing.T) {
	r := newCodeRig(t)
	ctx := context.Background()
	if err := r.db.Store.OptOut(ctx, inbSender, codeRigPaging, "STOP"); err != nil {
		t.Fatal(err)
	}
	first := r.inboundEvent("SMfirst", inbSender, codeRigPaging, "hello")
	second := r.inboundEvent("SMsecond", inbSender, codeRigPaging, "START")
	var waited bool
	r.at(5*time.Second, func() { waited = r.optedOut(inbSender) })
	r.at(6*time.Second, func() {
		if _, err := r.db.Store.FinishInbound(ctx, first.ID, "paging"); err != nil {
			t.Error(err)
		}
		r.env.SignalWorkflow(workflows.SignalInboundTurn, nil)
	})
	if res := r.runInbound(second); res.Outcome != "opt-in" {
		t.Fatalf("outcome = %q, want opt-in", res.Outcome)
	}
	if !waited {
		t.Error("the second text was handled before the first was processed")
	}
	if r.optedOut(inbSender) {
		t.Error("the second text (START) was never handled")
	}
}

func TestInbound_GoesAheadWhenAnEarlierTextIsStuck(t *testing.T) {
	r := newCodeRig(t)
	r.inboundEvent("SMstuck", inbSender, codeRigPaging, "hello")
	second := r.inboundEvent("SMnext", inbSender, codeRigPaging, "STOP")
	start := r.env.Now()
	if res := r.runInbound(second); res.Outcome != "opt-out" {
		t.Fatalf("outcome = %q, want opt-out", res.Outcome)
	}
	if waited := r.env.Now().Sub(start); waited < klaxon.InboundTurnMaxAge || waited > klaxon.InboundTurnMaxAge+30*time.Second {
		t.Errorf("waited %v for the stuck text, want about %v", waited, klaxon.InboundTurnMaxAge)
	}
}

// An ack texted back never waits behind the sender's earlier text, stuck
// or not: escalation goes on while it waits.
func TestInbound_AnAckNeverWaitsForAnEarlierText(t *testing.T) {
	took := func(earlier bool) time.Duration {
		r := newCodeRig(t)
		if earlier {
			r.inboundEvent("SMstuck", inbSender, codeRigPaging, "hello")
		}
		ack := r.inboundEvent("SMack", inbSender, codeRigPaging, "3a")
		start := r.env.Now()
		r.runInbound(ack)
		return r.env.Now().Sub(start)
	}
	alone, behind := took(false), took(true)
	if behind-alone > time.Second {
		t.Errorf("an ack behind an unprocessed text took %v, alone %v: it waited", behind, alone)
	}
}

func TestInbound_WakesTheSendersNextText(t *testing.T) {
	r := newCodeRig(t)
	first := r.inboundEvent("SMa", inbSender, codeRigPaging, "STOP")
	r.inboundEvent("SMother", "+15555550999", codeRigPaging, "STOP")
	r.inboundEvent("SMb", inbSender, codeRigPaging, "START")
	r.runInbound(first)
	var turns []codeRigSignal
	for _, s := range r.signals {
		if s.Name == workflows.SignalInboundTurn {
			turns = append(turns, s)
		}
	}
	if len(turns) != 1 || turns[0].WorkflowID != workflows.InboundWorkflowID("SMb") {
		t.Fatalf("turn signals = %+v, want one to the sender's next text", turns)
	}
}
