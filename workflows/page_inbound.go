package workflows

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// pageCommandKind is what a text to the paging number asks for.
type pageCommandKind int

const (
	cmdUnknown pageCommandKind = iota
	cmdAck
	cmdResolve
	cmdGetNow
	cmdHelp
	// cmdCall is "call 3" or "3r": call me and read page 3.
	cmdCall
)

// pageCommand is a text to the paging number, understood.
type pageCommand struct {
	kind pageCommandKind
	// code is the reply code; 0 means the page most recently texted.
	code int
	// handle and message are "get HANDLE now: MESSAGE".
	handle  string
	message string
}

// The reply grammar (README, "SMS grammar"): "3a", "3 a", "ack 3", "a", "ack" and
// "3c", "close 3"; also "3 ack", "resolve 3", a bare "close", "#3a".
// Case and surrounding punctuation do not matter.
var (
	codeFirst = regexp.MustCompile(`^#?(\d{1,4})\s*(a|ack|acknowledge|c|close|resolve|r)$`)
	wordFirst = regexp.MustCompile(`^(a|ack|acknowledge|c|close|resolve|call)(?:\s*#?\s*(\d{1,4}))?$`)
	getNow    = regexp.MustCompile(`(?is)^\s*get\s+@?([a-z0-9][a-z0-9_.-]{0,63})\s+now\b\s*[:,-]?\s*(.*?)\s*$`)
)

// parsePageCommand reads a text sent to the paging number. It never fails:
// what it cannot read is cmdUnknown.
func parsePageCommand(body string) pageCommand {
	if m := getNow.FindStringSubmatch(body); m != nil {
		if msg := strings.Join(strings.Fields(m[2]), " "); msg != "" {
			return pageCommand{kind: cmdGetNow, handle: strings.ToLower(m[1]), message: msg}
		}
		return pageCommand{kind: cmdUnknown}
	}
	s := strings.ToLower(strings.Join(strings.Fields(body), " "))
	s = strings.Trim(s, ".!?\"'“”‘’ ")
	switch s {
	case "help", "?", "info", "commands":
		return pageCommand{kind: cmdHelp}
	}
	var word, digits string
	if m := codeFirst.FindStringSubmatch(s); m != nil {
		digits, word = m[1], m[2]
	} else if m := wordFirst.FindStringSubmatch(s); m != nil {
		word, digits = m[1], m[2]
	} else {
		return pageCommand{kind: cmdUnknown}
	}
	cmd := pageCommand{kind: cmdAck}
	switch word {
	case "c", "close", "resolve":
		cmd.kind = cmdResolve
	case "r", "call":
		cmd.kind = cmdCall
	}
	if digits != "" {
		n, _ := strconv.Atoi(digits)
		if n == 0 {
			return pageCommand{kind: cmdUnknown}
		}
		cmd.code = n
	}
	return cmd
}

// pageHelp is the answer to HELP, and the hint in every error.
const pageHelp = `Reply with a page's code and "a" to acknowledge it (e.g. 3a), "c" to resolve it (3c), "r" to be called and hear it (3r), just "a" for your latest page, or "get HANDLE now: MESSAGE" to page someone.`

// pagingText handles a text sent to the paging number that was not a
// verification code: page acknowledgements and resolutions ("3a", "close
// 3", "ack") and "get HANDLE now: MESSAGE". It returns the reply to send
// back: a confirmation, or a clear error (error replies are rate-limited
// per sender, so a confused phone cannot start an SMS loop).
func pagingText(ctx workflow.Context, t InboundText) (reply string, err error) {
	cmd := parsePageCommand(t.Body)
	switch cmd.kind {
	case cmdCall:
		if workflow.GetVersion(ctx, versionCallBack, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return pageErrorReply(ctx, t, "Sorry, I did not understand that. "+pageHelp)
		}
		fallthrough
	case cmdAck, cmdResolve:
		return pageReply(ctx, t, cmd)
	case cmdGetNow:
		return pageRequest(ctx, t, cmd)
	case cmdHelp:
		return pageErrorReply(ctx, t, pageHelp)
	default:
		if workflow.GetVersion(ctx, versionChatRelay, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
			if reply, relayed, err := relayToChat(ctx, t); relayed || err != nil {
				return reply, err
			}
		}
		return pageErrorReply(ctx, t, "Sorry, I did not understand that. "+pageHelp)
	}
}

// versionChatRelay marks inbound workflows that relay other texts to chat.
const versionChatRelay = "sms-chat-relay"

// relayToChat relays a text that is no reply or command into chat, when a
// chat bridge is configured: relayed=false leaves it to the paging
// number's usual answer.
func relayToChat(ctx workflow.Context, t InboundText) (reply string, relayed bool, err error) {
	lctx := workflow.WithLocalActivityOptions(ctx, lookupOptions())
	var res activities.RelayTextResult
	if err := workflow.ExecuteLocalActivity(lctx, ActivityRelayText, t.EventID).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Error("relay a text to chat", "event", t.EventID, "error", err)
		return "Sorry, your text could not be relayed to chat just now; please try again in a minute.", true, nil
	}
	switch res.Outcome {
	case activities.RelayOff:
		return "", false, nil
	case activities.RelayStranger:
		r, err := pageErrorReply(ctx, t, res.Reply)
		return r, true, err
	}
	return res.Reply, true, nil
}

// pageReply acknowledges or resolves the page a reply code names.
func pageReply(ctx workflow.Context, t InboundText, cmd pageCommand) (string, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, lookupOptions())
	var rt activities.ReplyTarget
	if err := workflow.ExecuteLocalActivity(lctx, ActivityPageFindReplyTarget, activities.ReplyInput{
		EventID: t.EventID, From: t.From, Code: cmd.code, Text: t.Body,
	}).Get(ctx, &rt); err != nil {
		workflow.GetLogger(ctx).Error("find the page a reply names", "event", t.EventID, "error", err)
		return "Sorry, something went wrong on our side; please try again in a minute.", nil
	}
	switch rt.Refusal {
	case "nopage":
		return pageErrorReply(ctx, t, noPageText(cmd.code, rt.OpenCodes))
	case "stranger":
		return pageErrorReply(ctx, t, fmt.Sprintf(
			"Sorry, this number is not a verified contact of anyone page %d went to, so it cannot answer that page.", rt.Code))
	}
	if rt.Status == paging.StatusResolved {
		return fmt.Sprintf("Page %d (%s) is already resolved%s.", rt.Code, clip(oneLine(rt.Summary), 60), byWhom(rt.Settled, rt.By)), nil
	}
	if cmd.kind == cmdCall {
		return pageCallBack(ctx, t, rt)
	}
	if cmd.kind == cmdAck && rt.Status == paging.StatusAcked {
		return fmt.Sprintf("Page %d was already acknowledged%s. Reply %dc to resolve it.", rt.Code, byWhom(rt.Settled, rt.By), rt.Code), nil
	}
	in := activities.UpdatePageInput{
		PageID: rt.PageID, WorkflowID: PageWorkflowID(workflow.GetInfo(ctx).TaskQueueName, rt.PageID),
		Update: UpdateAck, Status: paging.StatusAcked,
		Action: paging.Action{By: rt.By, Via: "sms"},
	}
	if cmd.kind == cmdResolve {
		in.Update, in.Status = UpdateResolve, paging.StatusResolved
	}
	actx := workflow.WithActivityOptions(ctx, pageUpdateOptions())
	var res paging.ActionResult
	if err := workflow.ExecuteActivity(actx, ActivityPageUpdate, in).Get(ctx, &res); err != nil {
		workflow.GetLogger(ctx).Error("update page from a reply", "page", rt.PageID, "error", err)
		return fmt.Sprintf("Sorry, page %d could not be updated just now; please try again in a minute.", rt.Code), nil
	}
	summary := clip(oneLine(rt.Summary), 60)
	switch {
	case res.Changed && res.Status == paging.StatusAcked:
		return fmt.Sprintf("Acknowledged page %d: %s Reply %dc to resolve it.", rt.Code, sentence(summary), rt.Code), nil
	case res.Changed:
		return fmt.Sprintf("Resolved page %d: %s", rt.Code, sentence(summary)), nil
	case res.Status == paging.StatusResolved:
		return fmt.Sprintf("Page %d (%s) is already resolved%s.", rt.Code, summary, byWhom(res.By, rt.By)), nil
	default:
		return fmt.Sprintf("Page %d was already acknowledged%s. Reply %dc to resolve it.", rt.Code, byWhom(res.By, rt.By), rt.Code), nil
	}
}

// versionCallBack marks inbound workflows that understand "call 3".
const versionCallBack = "sms-call-back"

// pageCallBack calls the sender back to read a page in full, with the
// dial-in's keys (1 acknowledges, 2 resolves), through the one delivery
// pipeline.
func pageCallBack(ctx workflow.Context, t InboundText, rt activities.ReplyTarget) (string, error) {
	m := klaxon.Message{
		ID: fmt.Sprintf("readout/%d/%d", rt.PageID, t.EventID), Medium: klaxon.Voice, To: t.From,
		Body: rt.Summary, Priority: klaxon.Urgent, Purpose: store.PurposeReadout, Ref: strconv.FormatInt(rt.PageID, 10),
	}
	// The call is placed (the provider has it) before the reply goes.
	if _, err := deliver(ctx, m, DeliverOptions{GiveUpAfter: 5 * time.Minute}); err != nil {
		workflow.GetLogger(ctx).Warn("call back for a page", "page", rt.PageID, "error", err)
		return fmt.Sprintf("Sorry, I could not call you to read page %d just now; reply %da to acknowledge it.", rt.Code, rt.Code), nil
	}
	return fmt.Sprintf("Calling you now to read page %d. Press 1 during the call to acknowledge it, 2 to resolve it.", rt.Code), nil
}

// byWhom says who did something, or "by you".
func byWhom(who, me string) string {
	switch who {
	case "":
		return ""
	case me:
		return " by you"
	default:
		return " by " + who
	}
}

// noPageText explains that a reply code names no page of the sender.
func noPageText(code int, open []int) string {
	var b strings.Builder
	if code == 0 {
		b.WriteString("You have no open pages.")
	} else {
		b.WriteString(fmt.Sprintf("There is no page %d for this number.", code))
		switch len(open) {
		case 0:
			b.WriteString(" You have no open pages.")
		case 1:
			b.WriteString(fmt.Sprintf(" Your open page is %d: reply %da to acknowledge it.", open[0], open[0]))
		default:
			parts := make([]string, 0, len(open))
			for _, c := range open[:min(len(open), 8)] {
				parts = append(parts, strconv.Itoa(c))
			}
			b.WriteString(fmt.Sprintf(" Your open pages are %s.", strings.Join(parts, ", ")))
		}
	}
	return b.String()
}

// pageRequest starts the blast page that "get HANDLE now: MESSAGE" asks
// for, from a verified sender.
func pageRequest(ctx workflow.Context, t InboundText, cmd pageCommand) (string, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, lookupOptions())
	var rp activities.RequestedPage
	if err := workflow.ExecuteLocalActivity(lctx, ActivityPageRequest, activities.RequestPageInput{
		EventID: t.EventID, From: t.From, Handle: cmd.handle, Message: cmd.message,
	}).Get(ctx, &rp); err != nil {
		workflow.GetLogger(ctx).Error("create a page from a text", "event", t.EventID, "error", err)
		return "Sorry, the page could not be created just now; please try again in a minute.", nil
	}
	if rp.Refusal != "" {
		return pageErrorReply(ctx, t, rp.Refusal)
	}
	pg := rp.Page
	if pg.Status == paging.StatusOpen {
		in := NewPageInput(pg, t.Brand)
		if err := startChild(ctx, pageStartSpec(workflow.GetInfo(ctx).TaskQueueName, in), in); err != nil {
			workflow.GetLogger(ctx).Error("start a page from a text", "page", pg.ID, "error", err)
			return "Sorry, the page could not be started just now; please try again in a minute.", nil
		}
	}
	handle := strings.TrimPrefix(pg.Target, paging.TargetUser+":")
	return fmt.Sprintf("Paging %s now on every channel (page %d).", handle, pg.ID), nil
}

// pageErrorReply answers with msg unless the sender has had their share of
// error replies lately.
func pageErrorReply(ctx workflow.Context, t InboundText, msg string) (string, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, lookupOptions())
	var ok bool
	if err := workflow.ExecuteLocalActivity(lctx, ActivityPageClaimErrorReply,
		activities.ErrorReplyInput{Phone: t.From, EventID: t.EventID}).Get(ctx, &ok); err != nil {
		workflow.GetLogger(ctx).Warn("claim an error reply", "event", t.EventID, "error", err)
		return "", nil
	}
	if !ok {
		return "", nil
	}
	return msg, nil
}

// pageKeypress applies a key pressed during a page's call to its page:
// 1 acknowledges. The gateway has already ignored answering machines.
func pageKeypress(ctx workflow.Context, k InboundKeypress) error {
	if strings.TrimSpace(k.Digits) != "1" || k.MessageID == "" {
		return nil
	}
	lctx := workflow.WithLocalActivityOptions(ctx, lookupOptions())
	var cp activities.CallPage
	if err := workflow.ExecuteLocalActivity(lctx, ActivityPageFindCall,
		activities.KeypressInput{MessageID: k.MessageID}).Get(ctx, &cp); err != nil {
		return fmt.Errorf("page keypress: %w", err)
	}
	if cp.PageID == 0 {
		return nil
	}
	actx := workflow.WithActivityOptions(ctx, pageUpdateOptions())
	err := workflow.ExecuteActivity(actx, ActivityPageUpdate, activities.UpdatePageInput{
		PageID: cp.PageID, WorkflowID: PageWorkflowID(workflow.GetInfo(ctx).TaskQueueName, cp.PageID), Update: UpdateAck, Status: paging.StatusAcked,
		Action: paging.Action{By: cp.By, Via: "call", CallSID: k.CallSID},
	}).Get(ctx, nil)
	if err != nil {
		return fmt.Errorf("page keypress: %w", err)
	}
	return nil
}

// pageUpdateOptions are for delivering an acknowledgement to a page's
// workflow: retried for a few minutes while Temporal or Postgres recovers.
func pageUpdateOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, MaximumInterval: 15 * time.Second},
	}
}
