package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/sms"
)

// InboundInput names one durable inbound event.
type InboundInput struct {
	EventID  int64
	DedupKey string
}

// InboundResult says how the event was handled: opt-out, opt-in,
// code-reply, paging, keypress, channel, polite-reply, ignored, duplicate
// or failed.
type InboundResult struct {
	Outcome string
}

// How long an inbound event waits for an earlier one of the same sender:
// woken by a signal when that one is done, re-checking now and then, and
// going ahead regardless after inboundTurnMaxWait so that one broken event
// cannot hold up a sender for ever.
const (
	inboundTurnRecheck = 15 * time.Second
	inboundTurnMaxWait = 10 * time.Minute
	// politeReplyEvery bounds the automatic replies to one sender.
	politeReplyEvery = time.Hour
)

// inboundLocalOptions are for the inbound bookkeeping activities: quick
// Postgres statements, retried until Postgres answers.
func inboundLocalOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
		},
	}
}

// Inbound handles one inbound text or keypress, made durable by the
// gateway: it waits for the sender's earlier events, routes this one
// (opt-out keywords, codes texted back, the paging number, channels, or a
// polite reply), marks it processed, and wakes the sender's next event.
func Inbound(ctx workflow.Context, in InboundInput) (InboundResult, error) {
	ref := strconv.FormatInt(in.EventID, 10)
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SearchKind.ValueSet("inbound"), SearchRef.ValueSet(ref), SearchStatus.ValueSet("received"))
	setStatus := func(s string) { _ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet(s)) }
	lctx := workflow.WithLocalActivityOptions(ctx, inboundLocalOptions())
	ctx = workflow.WithActivityOptions(ctx, codeActivityOptions())

	var ev activities.LoadInboundResult
	if err := workflow.ExecuteLocalActivity(lctx, ActivityLoadInbound, in.EventID).Get(ctx, &ev); err != nil {
		setStatus("failed")
		return InboundResult{Outcome: "failed"}, fmt.Errorf("inbound %d: %w", in.EventID, err)
	}
	if ev.Processed {
		setStatus("processed")
		return InboundResult{Outcome: "duplicate"}, nil
	}
	if ev.Before != "" && settlesAPage(ev) &&
		workflow.GetVersion(ctx, versionInboundTurn, workflow.DefaultVersion, 1) == 1 {
		// An ack or resolution never waits behind the sender's earlier
		// texts: every minute it waits, escalation goes on.
		ev.Before = ""
	}
	if ev.Before != "" {
		setStatus("waiting")
		if err := waitTurn(ctx, lctx, in.EventID, &ev); err != nil {
			return InboundResult{Outcome: "failed"}, fmt.Errorf("inbound %d: %w", in.EventID, err)
		}
	}
	setStatus("processing")

	outcome, reply, routeErr := routeInbound(ctx, ev)
	if routeErr != nil {
		outcome = "failed"
		workflow.GetLogger(ctx).Error("inbound event failed", "event", in.EventID, "error", routeErr)
	}

	var next string
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dlctx := workflow.WithLocalActivityOptions(dctx, inboundLocalOptions())
	if err := workflow.ExecuteLocalActivity(dlctx, ActivityFinishInbound, activities.FinishInboundInput{
		EventID: in.EventID, Outcome: outcome,
	}).Get(dctx, &next); err != nil {
		setStatus("failed")
		return InboundResult{Outcome: "failed"}, fmt.Errorf("inbound %d: %w", in.EventID, err)
	}
	if next != "" {
		// The sender's next text may be waiting for this one; a signal to
		// a workflow that has not started yet fails, and it will not wait.
		_ = workflow.SignalExternalWorkflow(dctx, InboundWorkflowID(next), "", SignalInboundTurn, nil).Get(dctx, nil)
	}
	drainTurnSignals(ctx)

	// The backbone's own reply (a confirmation, or a paging answer) goes
	// last: the event is handled, and a slow provider holds up no one.
	if reply != nil {
		if _, err := deliver(ctx, *reply, DeliverOptions{GiveUpAfter: 15 * time.Minute}); err != nil {
			workflow.GetLogger(ctx).Warn("inbound reply not delivered", "event", in.EventID, "error", rootMessage(err))
		}
	}
	if routeErr != nil {
		setStatus("failed")
		return InboundResult{Outcome: outcome}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("inbound %d: %s", in.EventID, rootMessage(routeErr)), "InboundFailed", routeErr)
	}
	setStatus("processed")
	return InboundResult{Outcome: outcome}, nil
}

// waitTurn waits until every earlier event of the same sender is processed
// (or inboundTurnMaxWait has passed), reloading ev.
func waitTurn(ctx, lctx workflow.Context, eventID int64, ev *activities.LoadInboundResult) error {
	turn := workflow.GetSignalChannel(ctx, SignalInboundTurn)
	maxWait := inboundTurnMaxWait
	if workflow.GetVersion(ctx, versionInboundTurn, workflow.DefaultVersion, 1) == 1 {
		maxWait = klaxon.InboundTurnMaxAge
	}
	deadline := workflow.Now(ctx).Add(maxWait)
	for ev.Before != "" {
		if !workflow.Now(ctx).Before(deadline) {
			workflow.GetLogger(ctx).Warn("inbound event going ahead of an earlier one", "event", eventID, "earlier", ev.Before)
			return nil
		}
		tctx, cancel := workflow.WithCancel(ctx)
		timer := workflow.NewTimer(tctx, inboundTurnRecheck)
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(turn, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
		sel.AddFuture(timer, func(workflow.Future) {})
		sel.Select(ctx)
		cancel()
		if err := workflow.ExecuteLocalActivity(lctx, ActivityLoadInbound, eventID).Get(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// versionInboundTurn bounds the wait for a sender's earlier event to
// klaxon.InboundTurnMaxAge (it was ten minutes) and lets acks and
// resolutions go ahead at once.
const versionInboundTurn = "inbound-turn-bounded"

// settlesAPage reports whether an event acknowledges or resolves a page: a
// keypress, or an ack or resolve code texted to the paging number.
func settlesAPage(ev activities.LoadInboundResult) bool {
	if ev.Event.Kind == klaxon.InboundKeypress {
		return true
	}
	if !ev.ToPaging {
		return false
	}
	k := parsePageCommand(ev.Event.Body).kind
	return k == cmdAck || k == cmdResolve
}

// drainTurnSignals consumes turn signals that arrived after they were
// needed.
func drainTurnSignals(ctx workflow.Context) {
	turn := workflow.GetSignalChannel(ctx, SignalInboundTurn)
	for turn.ReceiveAsync(nil) {
	}
}

// routeInbound handles one event and returns its outcome and the reply, if
// any, that the backbone itself sends.
func routeInbound(ctx workflow.Context, ev activities.LoadInboundResult) (string, *klaxon.Message, error) {
	// The backbone's own steps are quick Postgres statements: local
	// activities, with no task-queue round trip.
	lctx := workflow.WithLocalActivityOptions(ctx, inboundLocalOptions())
	e := ev.Event
	if e.Kind == klaxon.InboundKeypress {
		err := pageKeypress(ctx, InboundKeypress{
			EventID: e.ID, CallSID: e.CallSID, From: e.From, To: e.To, Digits: e.Digits, MessageID: e.MessageID,
		})
		return "keypress", nil, err
	}
	t := InboundText{EventID: e.ID, SID: e.DedupKey, From: e.From, To: e.To, Body: e.Body, ReceivedAt: e.ReceivedAt, Brand: ev.Brand, IsCode: ev.Code}
	if ev.FromOwnNumber {
		// Never answer ourselves: that way lie loops.
		return "ignored", nil, nil
	}
	reply := func(body string, ignoreOptOut bool) *klaxon.Message {
		m := &klaxon.Message{
			ID: InboundWorkflowID(e.DedupKey) + "/reply", Medium: klaxon.SMS, From: e.To, To: e.From, Body: body,
			Priority: klaxon.Normal, IgnoreOptOut: ignoreOptOut, Purpose: "reply", Ref: strconv.FormatInt(e.ID, 10),
		}
		if e.From == "" {
			m.ToRef = senderRef(e.ID)
		}
		return m
	}

	owner := ownerOf(ev)
	if keyword, optIn, ok := inboundKeyword(ev); ok {
		if err := workflow.ExecuteLocalActivity(lctx, ActivityMirrorOptOut, activities.OptOutInput{
			EventID: e.ID, Number: e.From, Sender: e.To, Keyword: keyword, OptIn: optIn,
		}).Get(ctx, nil); err != nil {
			return "failed", nil, fmt.Errorf("mirror %s: %w", keyword, err)
		}
		outcome := "opt-out"
		confirm := fmt.Sprintf("You are unsubscribed from %s and will get no more texts from this number. Reply START to resubscribe.", ev.Brand)
		if optIn {
			outcome = "opt-in"
			confirm = fmt.Sprintf("You are resubscribed to %s texts from this number. Reply STOP to unsubscribe.", ev.Brand)
		}
		if owner == activities.OwnerChannel || owner == ownerUnresolved {
			// A channel treats STOP as leaving it and sends its own answer.
			handled, err := channelText(ctx, t)
			if err != nil {
				return "failed", nil, err
			}
			if handled {
				return outcome, nil, nil
			}
		}
		return outcome, reply(confirm, true), nil
	}

	// Route the text to whoever owns the number it reached.
	switch owner {
	case activities.OwnerPaging:
		return pagingRoute(ctx, lctx, t, reply)
	case activities.OwnerChannel, ownerUnresolved:
		handled, err := channelText(ctx, t)
		if err != nil {
			return "failed", nil, err
		}
		if handled {
			return "channel", nil, nil
		}
	}
	return nobodyRoute(ctx, lctx, ev, reply)
}

// keyword is the opt-out or opt-in keyword the text is, if any: as the
// activity found it, or (a history recorded before the activity said) as
// its words read.
func inboundKeyword(ev activities.LoadInboundResult) (keyword string, optIn, ok bool) {
	if ev.Keyword != "" {
		return ev.Keyword, ev.OptIn, true
	}
	return sms.OptKeyword(ev.Event.Body)
}

// ownerUnresolved is the owner of a text loaded before LoadInbound named
// owners (a recorded history): any number but the paging number may be a
// channel's, and channelText finds out.
const ownerUnresolved activities.NumberOwner = ""

// ownerOf is who owns the number ev reached.
func ownerOf(ev activities.LoadInboundResult) activities.NumberOwner {
	if ev.Owner == ownerUnresolved && ev.ToPaging {
		return activities.OwnerPaging
	}
	return ev.Owner
}

// pagingRoute handles a text to the paging number: a code texted back to
// a verification, else a reply or command for paging.
func pagingRoute(ctx, lctx workflow.Context, t InboundText, reply func(string, bool) *klaxon.Message) (string, *klaxon.Message, error) {
	if t.isCode() {
		// The code and its sender stay in Postgres: the activities load
		// them by the event's id.
		var challengeID string
		if err := workflow.ExecuteLocalActivity(lctx, ActivityFindCodeReply, activities.CodeReplyQuery{
			EventID: t.EventID,
		}).Get(ctx, &challengeID); err != nil {
			return "failed", nil, fmt.Errorf("find code reply: %w", err)
		}
		if challengeID != "" {
			err := workflow.SignalExternalWorkflow(ctx, challengeID, "", SignalCodeReply, CodeReply{
				EventID: t.EventID,
			}).Get(ctx, nil)
			if err == nil {
				return "code-reply", nil, nil
			}
			// The verification ended meanwhile: the text is the
			// paging feature's, like any other.
			workflow.GetLogger(ctx).Info("code reply found no verification", "event", t.EventID, "error", err)
		}
	}
	answer, err := pagingText(ctx, t)
	if err != nil {
		return "failed", nil, err
	}
	if strings.TrimSpace(answer.body) == "" {
		return "paging", nil, nil
	}
	m := reply(answer.body, false)
	m.Text, m.Vars = answer.text, answer.vars // an operator's override, when sent
	return "paging", m, nil
}

// nobodyRoute answers a text to a number that belongs to nothing: one
// polite reply an hour at most.
func nobodyRoute(ctx, lctx workflow.Context, ev activities.LoadInboundResult, reply func(string, bool) *klaxon.Message) (string, *klaxon.Message, error) {
	e := ev.Event
	var ok bool
	if err := workflow.ExecuteLocalActivity(lctx, ActivityClaimReply, activities.ClaimReplyInput{
		EventID: e.ID, From: e.From, To: e.To, Every: politeReplyEvery,
	}).Get(ctx, &ok); err != nil {
		return "failed", nil, fmt.Errorf("claim reply: %w", err)
	}
	if !ok {
		return "ignored", nil, nil
	}
	return "polite-reply", reply(fmt.Sprintf("Sorry, this %s number does not take messages.", ev.Brand), false), nil
}
