package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/twiml"
	"go.temporal.io/api/serviceerror"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/pager"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// pathGather is where a page call's keypress goes.
const pathGather = "/twilio/voice/gather"

// pageVoice is the voice pages are read in: an Amazon Polly voice, which
// honours the SSML that slows it down.
const pageVoice = "Polly.Joanna"

// prosody is SSML's <prosody>, spelled as Twilio expects it (twilio-go's
// own element is capitalised).
type prosody struct{ rate, words string }

func (p prosody) GetName() string { return "prosody" }
func (p prosody) GetText() string { return p.words }
func (p prosody) GetAttr() (map[string]string, map[string]string) {
	return nil, map[string]string{"Rate": p.rate}
}
func (p prosody) GetInnerElements() []twiml.Element { return nil }

// slowly says text at 85% speed: a page may wake someone up.
func slowly(text string) twiml.Element {
	return &twiml.VoiceSay{Voice: pageVoice, InnerElements: []twiml.Element{prosody{rate: "85%", words: text}}}
}

func say(text string) twiml.Element { return &twiml.VoiceSay{Voice: pageVoice, Message: text} }

// spokenPage names a page aloud: its id, and the phone's reply code when
// it has one ("page 2, reply code 1") — two numbers, said as two things.
func spokenPage(id int64, code int) string {
	if code <= 0 {
		return fmt.Sprintf("page %d", id)
	}
	return fmt.Sprintf("page %d, reply code %d", id, code)
}

// pageTwiML is what a person hears when they answer a page's call: the page
// read slowly, twice, inside a <Gather> that takes 1 to acknowledge. An
// answering machine hears the same message and cannot acknowledge (it never
// presses, and the gather handler refuses machines). A page already
// acknowledged or resolved by the time the call is answered says so.
func (g *Gateway) pageTwiML(ctx context.Context, m store.MessageRecord) []twiml.Element {
	brand := g.Config.Brand
	id, err := strconv.ParseInt(m.Ref, 10, 64)
	var pg paging.Page
	if err == nil {
		if pg, err = g.Store.GetPage(ctx, id); err == nil && pg.Status != paging.StatusOpen {
			what := "acknowledged" + byClause(pg.AckedBy)
			if pg.Status == paging.StatusResolved {
				what = "resolved" + byClause(pg.ResolvedBy)
			}
			return []twiml.Element{
				say(fmt.Sprintf("This is %s. Page %d, the one you are being called about, was already %s. Nothing more is needed. Goodbye.", brand, pg.ID, what)),
				&twiml.VoiceHangup{},
			}
		}
	}
	intro := fmt.Sprintf("This is %s with an urgent page.", brand)
	body := spokenText(m.Body)
	if err == nil {
		code := 0
		if rc, err := g.Store.ReplyCodeOfPage(ctx, id, m.To); err == nil {
			code = rc.Code
		}
		intro = fmt.Sprintf("This is %s with urgent %s.", brand, spokenPage(id, code))
		// The operator's own words for it (KLAXON_TEXTS), read in place of
		// the introduction and the summary.
		if s, ok, err := g.Texts.Render("page.call", map[string]string{
			"Brand": brand, "PageID": strconv.FormatInt(id, 10), "Code": strconv.Itoa(code),
			"Summary": spokenText(pg.Summary), "RequestedBy": pg.RequestedBy,
		}); ok && err == nil {
			intro, body = "", s
		}
	}
	action := g.Config.PublicURL + pathGather + "?m=" + url.QueryEscape(m.ID)
	var first []twiml.Element
	if intro != "" {
		first = []twiml.Element{say(intro), &twiml.VoicePause{Length: "1"}}
	}
	return []twiml.Element{
		&twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Timeout: "6", Action: action, Method: http.MethodPost,
			InnerElements: append(first,
				slowly(body),
				&twiml.VoicePause{Length: "1"},
				say("To acknowledge this page, press 1."),
				&twiml.VoicePause{Length: "2"},
				say("Again."),
				slowly(body),
				&twiml.VoicePause{Length: "1"},
				say("To acknowledge this page, press 1."),
			),
		},
		say("No key was pressed, so the page is still open. You can also acknowledge it by replying to its text. Goodbye."),
		&twiml.VoiceHangup{},
	}
}

// gatherTimeout bounds the direct acknowledgement during a call, so the
// caller hears an answer within seconds even if Temporal is slow.
const gatherTimeout = 4 * time.Second

// voiceGather is /twilio/voice/gather: the key pressed during a page's call.
// 1 acknowledges the page. The keypress is made durable first (an inbound
// event, which the Inbound workflow applies to the page), then applied
// directly to the page's workflow so the caller hears the outcome at once;
// if that fails, the durable path still applies it. Answering machines
// cannot acknowledge.
func (g *Gateway) voiceGather(w http.ResponseWriter, r *http.Request) {
	const route = "/voice/gather"
	form := r.PostForm
	messageID := r.URL.Query().Get("m")
	callSID := strings.TrimSpace(form.Get("CallSid"))
	digits := strings.TrimSpace(form.Get("Digits"))
	if messageID == "" || callSID == "" || len(callSID) > 64 || len(digits) > 16 {
		g.Metrics.Webhooks.WithLabelValues(route, "bad_request").Inc()
		http.Error(w, "A gather needs a CallSid and the message it belongs to.", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	if strings.HasPrefix(form.Get("AnsweredBy"), "machine") {
		g.Metrics.Webhooks.WithLabelValues(route, "machine").Inc()
		writeTwiML(w, []twiml.Element{&twiml.VoiceHangup{}})
		return
	}
	switch digits {
	case "1":
	case "":
		g.Metrics.Webhooks.WithLabelValues(route, "no_key").Inc()
		writeTwiML(w, []twiml.Element{say("No key was pressed, so the page is still open. Goodbye."), &twiml.VoiceHangup{}})
		return
	default:
		g.Metrics.Webhooks.WithLabelValues(route, "other_key").Inc()
		action := g.Config.PublicURL + pathGather + "?m=" + url.QueryEscape(messageID)
		writeTwiML(w, []twiml.Element{
			&twiml.VoiceGather{Input: "dtmf", NumDigits: "1", Timeout: "6", Action: action, Method: http.MethodPost,
				InnerElements: []twiml.Element{say("That key does nothing. To acknowledge the page, press 1.")}},
			say("No key was pressed, so the page is still open. Goodbye."),
			&twiml.VoiceHangup{},
		})
		return
	}

	cp, err := g.Store.PageOfCall(ctx, messageID)
	if err != nil {
		if klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
			g.Logger.ErrorContext(ctx, "page of a call", "error", err)
		}
		g.Metrics.Webhooks.WithLabelValues(route, "unknown_call").Inc()
		writeTwiML(w, []twiml.Element{say("Sorry, this page is no longer available. Goodbye."), &twiml.VoiceHangup{}})
		return
	}

	// Durable first: the person (the number called) and our number.
	person, _ := phone.Normalize(form.Get("To"), g.Config.DefaultRegion)
	ours, _ := phone.Normalize(form.Get("From"), g.Config.DefaultRegion)
	if person == "" {
		person = "call:" + callSID
	}
	if ours == "" {
		ours = g.Config.FromNumber
	}
	_, _, recErr := g.recordInbound(ctx, store.InboundEvent{
		Kind: store.InboundKeypress, DedupKey: callSID + ":" + digits + ":page",
		From: person, To: ours, Digits: digits, CallSID: callSID, MessageID: messageID,
	})
	if recErr != nil {
		g.Logger.ErrorContext(ctx, "record keypress", "page", cp.PageID, "error", recErr)
	}

	// Then straight to the page, for an answer the caller hears now.
	actx, cancel := context.WithTimeout(ctx, gatherTimeout)
	defer cancel()
	res, err := pager.Apply(actx, g.Temporal, g.Store, pager.Update{
		PageID: cp.PageID, WorkflowID: workflows.PageWorkflowID(g.Config.TaskQueue, cp.PageID),
		Name: workflows.UpdateAck, Status: paging.StatusAcked,
		Action: paging.Action{By: cp.By, Via: "call", CallSID: callSID},
	})
	var text, result string
	switch {
	case err != nil && recErr == nil:
		g.Logger.WarnContext(ctx, "direct page ack from a call", "page", cp.PageID, "error", err)
		text, result = "Thank you. Your acknowledgement is recorded. Goodbye.", "deferred"
	case err != nil:
		g.Logger.ErrorContext(ctx, "page ack from a call", "page", cp.PageID, "error", err)
		text, result = "Sorry, your acknowledgement could not be recorded. Please reply to the page's text message instead. Goodbye.", "failed"
	case res.Changed:
		text, result = fmt.Sprintf("Thank you. Page %d is acknowledged, and its other notifications are canceled. Goodbye.", cp.PageID), "acked"
	case res.Status == paging.StatusResolved:
		text, result = "This page is already resolved"+byClause(res.By)+". Goodbye.", "already"
	case res.By == cp.By:
		text, result = "You already acknowledged this page. Goodbye.", "already"
	default:
		text, result = "This page was already acknowledged"+byClause(res.By)+". Goodbye.", "already"
	}
	g.Metrics.Webhooks.WithLabelValues(route, result).Inc()
	writeTwiML(w, []twiml.Element{say(text), &twiml.VoiceHangup{}})
}

// pageDeliveryStatus records a fresh provider status of a page's message in
// the page's timeline and, when it means the person was not reached,
// signals the page's workflow, so that a failed text or an unanswered call
// moves the person to their next medium at once.
// Messages that are not a page's are left alone. Failures are logged: the
// status itself is already stored, and the workflow's own timers escalate
// without the signal.
func (g *Gateway) pageDeliveryStatus(ctx context.Context, messageID, status, answeredBy, errorCode string) {
	if !paging.TimelineStatus(status) && !paging.NotReached(status, answeredBy) {
		return // queued, sent, initiated...: nothing to record, no query
	}
	pm, err := g.Store.PageOfMessage(ctx, messageID)
	if err != nil {
		if klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
			g.Logger.WarnContext(ctx, "page of a status callback", "error", err)
		}
		return
	}
	if paging.TimelineStatus(status) {
		if err := g.Store.RecordPageEvent(ctx, pm.PageID,
			store.DeliveryEvent(messageID, pm.Medium, pm.To, status, answeredBy, errorCode)); err != nil {
			g.Logger.WarnContext(ctx, "record page delivery status", "page", pm.PageID, "error", err)
		}
	}
	if !paging.NotReached(status, answeredBy) {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err = g.Temporal.SignalWorkflow(sctx, workflows.PageWorkflowID(g.Config.TaskQueue, pm.PageID), "", workflows.SignalPageDelivery,
		workflows.PageDelivery{MessageID: messageID, Status: status, AnsweredBy: answeredBy})
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		g.Logger.WarnContext(ctx, "signal page delivery status", "page", pm.PageID, "error", err)
	}
}
