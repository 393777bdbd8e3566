package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/pager"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
)

// CallCanceler hangs up or cancels a call placed through the provider.
type CallCanceler interface {
	CancelCall(ctx context.Context, callSID string) error
}

// Paging is the paging feature's side of Temporal: it resolves whom a page
// step reaches, keeps the page's record and timeline, hangs up calls no
// longer needed, and carries acknowledgements from texts and keypresses to
// the page's workflow.
type Paging struct {
	Store *store.Store
	// Calls cancels calls; nil when no voice provider is configured.
	Calls CallCanceler
	// Temporal sends acknowledgements to page workflows.
	Temporal client.Client
	Logger   *slog.Logger
}

// Error type of a page whose policy no longer exists.
const ErrTypeNoPolicy = "NoSuchPolicy"

// LoadPolicy returns the escalation policy a page follows.
func (p *Paging) LoadPolicy(ctx context.Context, name string) (paging.Policy, error) {
	pol, err := p.Store.PolicyByName(ctx, name)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return pol, temporal.NewNonRetryableApplicationError(fmt.Sprintf("there is no policy %q", name), ErrTypeNoPolicy, nil)
	}
	return pol, err
}

// StepInput is one escalation step about to fire.
type StepInput struct {
	PageID int64
	// Step counts every step fired so far, repeats included, from 0.
	Step    int
	Targets []string
}

// StepContact is one verified way to reach a person.
type StepContact struct {
	ID     int64
	Medium klaxon.Medium
	// Address is the number or address in histories recorded before
	// references; the delivery activity now loads it by ID.
	Address string `json:",omitempty"`
	// Shown is the redacted address, for people reading the page's state.
	Shown string
	// Code is the phone's reply code for the page (SMS and voice).
	Code int
}

// StepPerson is someone a step reaches, with how.
type StepPerson struct {
	UserID   int64
	Handle   string
	Contacts []StepContact
	Rules    []paging.NotificationRule
}

// StepSkip is a target a step could not reach, and why.
type StepSkip struct {
	Target string
	Reason string
}

// StepPlan is whom a step reaches, resolved when it fires, and the
// timeline entries of the step (recorded by the workflow once the step's
// first notifications are on their way, to keep them off the critical path).
type StepPlan struct {
	People  []StepPerson
	Skipped []StepSkip
	Events  []paging.Event
}

// BeginStep resolves a step's targets to people with verified contacts and
// gives each of their phones a reply code for the page; it returns the
// step's timeline entries (the step, every target it has to skip) for the
// workflow to record. It is safe to repeat: a phone keeps its code.
func (p *Paging) BeginStep(ctx context.Context, in StepInput) (StepPlan, error) {
	var plan StepPlan
	seen := map[int64]bool{}
	for _, raw := range in.Targets {
		t, err := paging.ParseTarget(raw)
		if err != nil {
			plan.Skipped = append(plan.Skipped, StepSkip{Target: raw, Reason: klaxon.ErrorMessageOf(err)})
			continue
		}
		res, err := p.Store.ResolveTargetNow(ctx, t)
		if err != nil {
			if code := klaxon.ErrorCodeOf(err); code != klaxon.ENotFound && code != klaxon.EUnprocessable {
				return plan, fmt.Errorf("begin step: %w", err)
			}
			plan.Skipped = append(plan.Skipped, StepSkip{Target: t.String(), Reason: klaxon.ErrorMessageOf(err)})
			continue
		}
		for _, po := range res.PassedOver {
			plan.Skipped = append(plan.Skipped, StepSkip{Target: t.String(), Reason: po.Reason})
		}
		for _, u := range res.Users {
			if seen[u.ID] {
				continue
			}
			seen[u.ID] = true
			if !u.Active {
				plan.Skipped = append(plan.Skipped, StepSkip{Target: t.String(), Reason: paging.WhyNot(u.Handle, false, 0)})
				continue
			}
			person, err := p.person(ctx, in.PageID, u)
			if err != nil {
				return plan, fmt.Errorf("begin step: %w", err)
			}
			if !paging.CanPage(u.Active, len(person.Contacts)) {
				plan.Skipped = append(plan.Skipped, StepSkip{Target: t.String(),
					Reason: paging.WhyNot(u.Handle, u.Active, len(person.Contacts))})
				continue
			}
			plan.People = append(plan.People, person)
		}
	}
	step := strconv.Itoa(in.Step)
	plan.Events = append(plan.Events, paging.Event{
		Kind: paging.EventStep, Key: "step/" + step,
		Detail: fmt.Sprintf("step %d: %s", in.Step+1, strings.Join(in.Targets, ", ")),
	})
	for _, s := range plan.Skipped {
		plan.Events = append(plan.Events, paging.Event{
			Kind: paging.EventSkipped, Key: "skipped/" + step + "/" + s.Target + "/" + s.Reason, Detail: s.Target + ": " + s.Reason,
		})
	}
	return plan, nil
}

// person loads how u is reached, and gives each of u's phones a reply code.
func (p *Paging) person(ctx context.Context, pageID int64, u store.User) (StepPerson, error) {
	sp := StepPerson{UserID: u.ID, Handle: u.Handle}
	contacts, rules, err := p.Store.Reachability(ctx, u.ID)
	if err != nil {
		return sp, err
	}
	sp.Rules = rules
	codes := map[string]int{}
	for _, c := range contacts {
		sc := StepContact{ID: c.ID, Medium: c.Type, Shown: redact.Address(c.Address)}
		if c.Type.IsPhone() {
			code, ok := codes[c.Address]
			if !ok {
				if code, err = p.Store.AllocateReplyCode(ctx, pageID, c.Address, u.ID); err != nil {
					return sp, err
				}
				codes[c.Address] = code
			}
			sc.Code = code
		}
		sp.Contacts = append(sp.Contacts, sc)
	}
	return sp, nil
}

// PageEventInput is entries for a page's timeline.
type PageEventInput struct {
	PageID int64
	Events []paging.Event
	// NotifiedPhone, when set, is a phone that was just texted: a bare "a"
	// from it now means this page.
	NotifiedPhone string
	// ProviderID, with a notification, is the provider's id of its
	// message: statuses that arrived before the delivery pipeline knew the
	// id are recorded too, and returned.
	ProviderID string
	MessageID  string
	Medium     klaxon.Medium
	// To is the notification's recipient in histories recorded before
	// references; ContactID names it now, and NotifiedPhone is then loaded
	// from it when the medium takes replies.
	To        string `json:",omitempty"`
	ContactID int64  `json:",omitempty"`
}

// DeliveryStatus is a provider status of a message.
type DeliveryStatus struct {
	Status     string
	AnsweredBy string
	ErrorCode  string
}

// RecordPageEvent adds entries to a page's timeline (each once per key).
// For a notification it also records, and returns, the provider statuses
// that arrived before the provider's id was known (a fast provider calls
// back before it has answered us), which the gateway could not place.
func (p *Paging) RecordPageEvent(ctx context.Context, in PageEventInput) ([]DeliveryStatus, error) {
	if in.To == "" && in.ContactID != 0 {
		to, err := p.Store.Resolve(ctx, "contact:"+strconv.FormatInt(in.ContactID, 10))
		if err != nil && !errors.Is(err, store.ErrBadRef) {
			return nil, err
		}
		in.To = to
		if in.Medium.TakesReplies() {
			in.NotifiedPhone = to
		}
	}
	evs, err := p.Store.RecordNotification(ctx, in.PageID, in.Events, in.NotifiedPhone, in.ProviderID)
	if err != nil {
		return nil, err
	}
	var out []DeliveryStatus
	var timeline []paging.Event
	for _, e := range evs {
		out = append(out, DeliveryStatus{Status: e.Status, AnsweredBy: e.Detail, ErrorCode: e.ErrorCode})
		if paging.TimelineStatus(e.Status) {
			timeline = append(timeline, store.DeliveryEvent(in.MessageID, in.Medium, in.To, e.Status, e.Detail, e.ErrorCode))
		}
	}
	return out, p.Store.RecordPageEvents(ctx, in.PageID, timeline)
}

// PageStatusInput acknowledges or resolves a page's record.
type PageStatusInput struct {
	PageID int64
	// Status is paging.StatusAcked or paging.StatusResolved.
	Status string
	By     string
	Via    string
}

// SetPageStatus records an acknowledgement or resolution: the page's
// status, the timeline event, its unsent messages canceled and, on
// resolution, its reply codes freed. It returns the page as recorded.
func (p *Paging) SetPageStatus(ctx context.Context, in PageStatusInput) (paging.Page, error) {
	var t store.PageTransition
	var err error
	switch in.Status {
	case paging.StatusAcked:
		t, err = p.Store.AckPage(ctx, in.PageID, in.By, in.Via)
	case paging.StatusResolved:
		t, err = p.Store.ResolvePage(ctx, in.PageID, in.By, in.Via)
	default:
		return paging.Page{}, temporal.NewNonRetryableApplicationError("unknown page status "+in.Status, "InvalidStatus", nil)
	}
	if store.IsRefusedData(err) {
		return paging.Page{}, temporal.NewNonRetryableApplicationError("the page's record refused this "+in.Status+": "+err.Error(), "InvalidStatus", nil)
	}
	return t.Page, err
}

// HangUpInput names a page whose calls must end.
type HangUpInput struct {
	PageID int64
	// Except is a call to leave alone: the one whose keypress acknowledged
	// the page, which is telling its listener so.
	Except string
}

// HangUpCalls ends every call of the page still ringing or in progress,
// and returns how many it ended.
func (p *Paging) HangUpCalls(ctx context.Context, in HangUpInput) (int, error) {
	if p.Calls == nil {
		return 0, nil
	}
	sids, err := p.Store.LiveCallsOfPage(ctx, in.PageID, in.Except)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sid := range sids {
		if err := p.Calls.CancelCall(ctx, sid); err != nil {
			var de *klaxon.DeliveryError
			if !errors.As(err, &de) {
				return n, fmt.Errorf("hang up page call: %w", err)
			}
			if de.Permanent {
				p.Logger.WarnContext(ctx, "cannot hang up a page call", "page", in.PageID, "kind", de.Kind)
				continue
			}
			return n, providerError(de)
		}
		n++
	}
	return n, nil
}

// UpdatePageInput is an acknowledgement or resolution to deliver to a page
// workflow.
type UpdatePageInput struct {
	PageID     int64
	WorkflowID string
	// Update is the update's name (ack or resolve).
	Update string
	Action paging.Action
	// Status is the page status the update leads to.
	Status string
}

// UpdatePage delivers an acknowledgement or resolution to the page's
// workflow and waits for its answer.
func (p *Paging) UpdatePage(ctx context.Context, in UpdatePageInput) (paging.ActionResult, error) {
	return pager.Apply(ctx, p.Temporal, p.Store, pager.Update{
		PageID: in.PageID, WorkflowID: in.WorkflowID, Name: in.Update, Action: in.Action, Status: in.Status,
	})
}

// ReplyInput is a text that answers a page: "3a", "ack", "close 3".
type ReplyInput struct {
	EventID int64
	// From is the sender in histories recorded before references; it is
	// loaded by EventID.
	From string `json:",omitempty"`
	// Code is the reply code; 0 means the page most recently texted to From.
	Code int
	// Text is what was sent, for the timeline.
	Text string
}

// ReplyTarget is the page a reply answers, or why it answers none.
type ReplyTarget struct {
	PageID  int64
	Code    int
	Summary string
	// Status is the page's status now.
	Status string
	// By is the handle of the person replying.
	By string
	// Settled is who acknowledged or resolved it already, if anyone.
	Settled string
	// Refusal, when set, is the answer to send instead: the reply names no
	// page this number may answer.
	Refusal string
	// OpenCodes are the sender's live reply codes, for a helpful refusal.
	OpenCodes []int
}

// FindReplyTarget finds the page a reply code names for the sender, checks
// that the sender is a verified contact of someone that page reached, and
// records the reply in the page's timeline.
func (p *Paging) FindReplyTarget(ctx context.Context, in ReplyInput) (ReplyTarget, error) {
	rt := ReplyTarget{Code: in.Code}
	var err error
	if in.From, err = sender(ctx, p.Store, in.From, in.EventID); err != nil {
		return rt, err
	}
	rc, err := p.Store.ReplyCodeFor(ctx, in.From, in.Code)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		if rt.OpenCodes, err = p.Store.LiveReplyCodes(ctx, in.From); err != nil {
			return rt, err
		}
		rt.Refusal = "nopage"
		return rt, nil
	}
	if err != nil {
		return rt, err
	}
	rt.PageID, rt.Code = rc.PageID, rc.Code
	pg, err := p.Store.GetPage(ctx, rc.PageID)
	if err != nil {
		return rt, err
	}
	rt.Summary, rt.Status = pg.Summary, pg.Status
	rt.Settled = pg.SettledBy()
	u, err := p.Store.PageRecipient(ctx, rc.PageID, in.From)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		rt.Refusal = "stranger"
		return rt, nil
	}
	if err != nil {
		return rt, err
	}
	rt.By = u.Handle
	err = p.Store.RecordPageEvent(ctx, rc.PageID, paging.Event{
		Kind: paging.EventReply, Key: "reply/" + strconv.FormatInt(in.EventID, 10), User: u.Handle,
		Medium: klaxon.SMS, Contact: redact.Number(in.From), Detail: fmt.Sprintf("%q", clipText(in.Text, 40)),
	})
	return rt, err
}

// RequestPageInput is "get HANDLE now: MESSAGE" texted to the paging number.
type RequestPageInput struct {
	EventID int64
	// From is the sender in histories recorded before references.
	From    string `json:",omitempty"`
	Handle  string
	Message string
}

// RequestedPage is the page a text asked for, or why there is none.
type RequestedPage struct {
	Page    paging.Page
	Created bool
	// Requester is the handle of the person who asked.
	Requester string
	// Refusal, when set, is the answer to send instead.
	Refusal string
}

// RequestPage creates the blast page a verified person asked for by text.
// The inbound event makes it idempotent: asking again for the same text
// returns the same page.
func (p *Paging) RequestPage(ctx context.Context, in RequestPageInput) (RequestedPage, error) {
	var rp RequestedPage
	var err error
	if in.From, err = sender(ctx, p.Store, in.From, in.EventID); err != nil {
		return rp, err
	}
	contacts, err := p.Store.VerifiedContactsByAddress(ctx, in.From)
	if err != nil {
		return rp, err
	}
	for _, c := range contacts {
		if c.Type.IsPhone() {
			u, err := p.Store.UserByID(ctx, c.UserID)
			if err != nil {
				return rp, err
			}
			if !u.Active {
				continue // someone who left pages nobody
			}
			rp.Requester = u.Handle
			break
		}
	}
	if rp.Requester == "" {
		rp.Refusal = "Sorry, only people whose phone number is verified in Klaxon can page others by text."
		return rp, nil
	}
	t, err := paging.ParseTarget("user:" + strings.ToLower(in.Handle))
	if err != nil {
		rp.Refusal = fmt.Sprintf("Sorry, %q is not a valid handle.", clipText(in.Handle, 32))
		return rp, nil
	}
	users, err := p.Store.ResolveTarget(ctx, t)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		rp.Refusal = fmt.Sprintf("Sorry, there is no one called %s in Klaxon.", t.Name)
		return rp, nil
	}
	if err != nil {
		return rp, err
	}
	verified, err := p.Store.Contacts(ctx, users[0].ID, true)
	if err != nil {
		return rp, err
	}
	if !users[0].Active {
		rp.Refusal = fmt.Sprintf("Sorry, %s is no longer in the directory and is paged no more.", t.Name)
		return rp, nil
	}
	if !paging.CanPage(users[0].Active, len(verified)) {
		rp.Refusal = fmt.Sprintf("Sorry, %s has no verified way to be reached.", t.Name)
		return rp, nil
	}
	rp.Page, rp.Created, err = p.Store.CreatePage(ctx, paging.Page{
		Target: t.String(), Summary: clipText(in.Message, 1000), Mode: paging.ModeBlast, Urgency: paging.UrgencyHigh,
		DedupKey: "inbound/" + strconv.FormatInt(in.EventID, 10), RequestedBy: rp.Requester,
	})
	return rp, err
}

// ErrorReplyInput is an error answer the paging number would send.
type ErrorReplyInput struct {
	// Phone is the sender in histories recorded before references.
	Phone   string `json:",omitempty"`
	EventID int64
}

// Error replies allowed per phone, so a confused phone or a robot never
// starts an SMS loop.
const (
	errorRepliesPerWindow = 3
	errorReplyWindow      = time.Hour
)

// ClaimErrorReply reports whether the paging number may send this error
// answer: a few per phone per hour.
func (p *Paging) ClaimErrorReply(ctx context.Context, in ErrorReplyInput) (bool, error) {
	from, err := sender(ctx, p.Store, in.Phone, in.EventID)
	if err != nil {
		return false, err
	}
	return p.Store.ClaimErrorReply(ctx, from, in.EventID, errorRepliesPerWindow, errorReplyWindow)
}

// CallPage is the page a call was placed for, and who was called.
type CallPage struct {
	PageID int64
	// By is the handle of the person called (or their redacted number).
	By string
}

// KeypressInput names the call a key was pressed on.
type KeypressInput struct {
	MessageID string
}

// FindCallPage returns the page a call was placed for (PageID 0 when the
// call was not a page's).
func (p *Paging) FindCallPage(ctx context.Context, in KeypressInput) (CallPage, error) {
	cp, err := p.Store.PageOfCall(ctx, in.MessageID)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return CallPage{}, nil
	}
	return CallPage{PageID: cp.PageID, By: cp.By}, err
}

func clipText(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "..."
}
