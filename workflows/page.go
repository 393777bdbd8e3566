package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/integration"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/sms"
)

// PageInput is one page to escalate. Its record (paging.Page) exists before
// the workflow starts.
type PageInput struct {
	PageID  int64
	Target  string
	Summary string
	Details string
	// Mode is paging.ModeEscalate (the default) or paging.ModeBlast.
	Mode string
	// Urgency is paging.UrgencyHigh (the default) or paging.UrgencyLow: one
	// text per person, never a call.
	Urgency string
	// EscalateAfterSeconds, when not zero, is the wait before each next
	// medium of a person and before each next step.
	EscalateAfterSeconds int
	// RequestedBy is the handle of the person who asked, if a person did;
	// the text then says "alincoln needs you now: ...".
	RequestedBy string
	// Brand names Klaxon in emails; empty means "Klaxon".
	Brand string
}

// PageResult is how a page ended.
type PageResult struct {
	Status     string
	AckedBy    string
	ResolvedBy string
	// Sent counts the notifications a provider accepted.
	Sent int
}

// PageState is what QueryState answers for a page workflow.
type PageState struct {
	PageID     int64  `json:"page_id"`
	Status     string `json:"status"`
	AckedBy    string `json:"acked_by,omitempty"`
	ResolvedBy string `json:"resolved_by,omitempty"`
	// Round is the policy's current pass (0 first); Step counts every step
	// fired so far, repeats included.
	Round int `json:"round"`
	Step  int `json:"step"`
	// Exhausted reports that every step and repeat has fired and nobody
	// acknowledged.
	Exhausted     bool                `json:"exhausted"`
	Sent          int                 `json:"sent"`
	Notifications []NotificationState `json:"notifications"`
}

// NotificationState is one notification of a page as the workflow sees it.
type NotificationState struct {
	MessageID string        `json:"message_id"`
	User      string        `json:"user"`
	Medium    klaxon.Medium `json:"medium"`
	Contact   string        `json:"contact"`
	Due       time.Time     `json:"due"`
	// Status is scheduled, sending, sent, canceled or failed, then the
	// provider's own statuses (delivered, no-answer, ...).
	Status string `json:"status"`
}

// PageDelivery is a provider status of one of a page's messages, signalled
// by the gateway as the status callback arrives.
type PageDelivery struct {
	MessageID  string
	Status     string
	AnsweredBy string
}

// Escalation defaults.
const (
	// defaultStepWait is how long a user or rotation target waits after a
	// person's last medium before paging them all over again.
	defaultStepWait = 5 * time.Minute
	// implicitRepeats is how often a user or rotation target is paged
	// again after the first pass.
	implicitRepeats = 2
	// pageGiveUp bounds the retries of one notification: a text that
	// cannot be sent in ten minutes is late, and the next medium is due.
	pageGiveUp = 10 * time.Minute
	// hangUpAgainAfter catches a call the provider was accepting at the
	// very moment of the acknowledgement.
	hangUpAgainAfter = 3 * time.Second
)

// Page escalates one page until someone acknowledges or resolves it: for
// each step of its policy (a user or rotation target is a one-step policy)
// it reaches every person the step names by their notification rules (text,
// then call, then email by default), moves to a person's next medium at once
// when one fails for good, moves to the next step when nobody acknowledged
// in time, and repeats. The "ack" and "resolve" updates stop every pending
// notification at once, queued ones included, and hang up ringing calls. An
// acknowledged page waits for its resolution; resolution ends the workflow.
func Page(ctx workflow.Context, in PageInput) (PageResult, error) {
	if in.Mode == "" {
		in.Mode = paging.ModeEscalate
	}
	if in.Urgency == "" {
		in.Urgency = paging.UrgencyHigh
	}
	if in.Brand == "" {
		in.Brand = "Klaxon"
	}
	p := &pager{
		in:      in,
		state:   PageState{PageID: in.PageID, Status: paging.StatusOpen, Notifications: []NotificationState{}},
		notices: map[string]*notice{},
		active:  map[int64]*chain{},
	}
	nctx, cancel := workflow.WithCancel(ctx)
	p.cancel = cancel
	if err := p.register(ctx); err != nil {
		return PageResult{}, fmt.Errorf("page %d: %w", in.PageID, err)
	}
	if !workflow.GetTypedSearchAttributes(ctx).ContainsKey(SearchPageID) {
		// Started without them (by hand): the API and pagingText start
		// pages with their search attributes.
		_ = workflow.UpsertTypedSearchAttributes(ctx,
			SearchKind.ValueSet("page"), SearchPageID.ValueSet(strconv.FormatInt(in.PageID, 10)),
			SearchPageStatus.ValueSet(paging.StatusOpen), SearchTarget.ValueSet(in.Target))
	}

	p.announce(ctx, integration.EventOpened)
	workflow.GetLogger(ctx).Info("page opened", "page", in.PageID, "target", in.Target, "mode", in.Mode, "urgency", in.Urgency)
	workflow.Go(nctx, p.escalate)
	if err := workflow.Await(ctx, func() bool { return p.state.Status == paging.StatusResolved }); err != nil {
		return p.result(), fmt.Errorf("page %d: %w", in.PageID, err)
	}
	p.cancel()
	// Finish what must outlive the page: update answers, timeline entries
	// of notifications in flight, hang-ups.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) && p.pending == 0 }); err != nil {
		return p.result(), fmt.Errorf("page %d: %w", in.PageID, err)
	}
	return p.result(), nil
}

// pager is one page's escalation state.
type pager struct {
	in    PageInput
	state PageState
	// cancel stops every notification: chains, timers and deliveries.
	cancel  workflow.CancelFunc
	stopped bool
	// settling is set while an acknowledgement or resolution is being
	// written.
	settling bool
	// notices by message id, for delivery statuses (looked up, never
	// iterated).
	notices map[string]*notice
	// active is the chain of each person being escalated, by user id.
	active map[int64]*chain
	chains []*chain
	// stepEvents are the current step's timeline entries, not yet written.
	stepEvents []paging.Event
	// pending counts side effects the workflow waits for before it ends;
	// sending counts notifications between their start and their timeline
	// entry.
	pending int
	sending int
	// hurry ends the current step's wait (the escalate update).
	hurry bool
}

// versionEscalateNow is the version of the page workflow that takes the
// escalate update; histories recorded before it have no handler.
const versionEscalateNow = "escalate-now"

// chain is one person's escalation in one step: groups of notifications,
// each due at an offset from the chain's start.
type chain struct {
	user   string
	groups []*group
	// hurry[i] makes group i due now: the group before it failed.
	hurry []bool
	fired int
}

type group struct {
	offset  time.Duration
	notices []*notice
}

type notice struct {
	msg   klaxon.Message
	chain *chain
	group int
	// idx is the notification's index in state.Notifications.
	idx     int
	failed  bool
	machine bool
	phone   string
	// contactID is the contact method the notice goes to.
	contactID int64
}

func (c *chain) done() bool { return c.fired == len(c.groups) }

// dead reports that every notification of the chain went out and failed:
// the person cannot be reached.
func (c *chain) dead() bool {
	if !c.done() {
		return false
	}
	for _, g := range c.groups {
		for _, n := range g.notices {
			if !n.failed {
				return false
			}
		}
	}
	return true
}

func (p *pager) result() PageResult {
	return PageResult{Status: p.state.Status, AckedBy: p.state.AckedBy, ResolvedBy: p.state.ResolvedBy, Sent: p.state.Sent}
}

// register installs the query, the updates and the delivery signal.
func (p *pager) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (PageState, error) {
		s := p.state
		s.Notifications = append([]NotificationState(nil), p.state.Notifications...)
		return s, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateAck, p.ack,
		workflow.UpdateHandlerOptions{Validator: p.validateAck}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateResolve, p.resolve,
		workflow.UpdateHandlerOptions{Validator: p.validateResolve}); err != nil {
		return err
	}
	if workflow.GetVersion(ctx, versionEscalateNow, workflow.DefaultVersion, 1) >= 1 {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateEscalate, p.escalateNow,
			workflow.UpdateHandlerOptions{Validator: p.validateEscalate}); err != nil {
			return err
		}
	}
	ch := workflow.GetSignalChannel(ctx, SignalPageDelivery)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var d PageDelivery
			if !ch.Receive(ctx, &d) {
				return
			}
			p.onDelivery(d)
		}
	})
	return nil
}

// refusal is a validator's answer to an update that would change nothing.
func (p *pager) refusal(kind, what string) error {
	res := paging.ActionResult{PageID: p.in.PageID, Status: p.state.Status, By: p.state.AckedBy}
	if p.state.Status == paging.StatusResolved {
		res.By = p.state.ResolvedBy
	}
	msg := fmt.Sprintf("page %d was already %s", p.in.PageID, what)
	if res.By != "" {
		msg += " by " + res.By
	}
	return temporal.NewApplicationErrorWithOptions(msg, kind, temporal.ApplicationErrorOptions{
		NonRetryable: true, Details: []any{res},
	})
}

func (p *pager) validateAck(paging.Action) error {
	if p.settling {
		return nil // decided once the write in flight has landed or failed
	}
	switch p.state.Status {
	case paging.StatusAcked:
		return p.refusal(paging.ErrTypeAcked, "acknowledged")
	case paging.StatusResolved:
		return p.refusal(paging.ErrTypeResolved, "resolved")
	}
	return nil
}

func (p *pager) validateResolve(paging.Action) error {
	if p.settling {
		return nil
	}
	if p.state.Status == paging.StatusResolved {
		return p.refusal(paging.ErrTypeResolved, "resolved")
	}
	return nil
}

func (p *pager) validateEscalate(paging.Action) error {
	switch {
	case p.state.Status == paging.StatusAcked:
		return p.refusal(paging.ErrTypeAcked, "acknowledged")
	case p.state.Status == paging.StatusResolved:
		return p.refusal(paging.ErrTypeResolved, "resolved")
	case p.state.Exhausted:
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("page %d has no step left to escalate to", p.in.PageID),
			ErrTypeNothingToEscalate, temporal.ApplicationErrorOptions{NonRetryable: true})
	}
	return nil
}

// ErrTypeNothingToEscalate refuses an escalation of a page whose every
// step has fired.
const ErrTypeNothingToEscalate = "NothingToEscalate"

// escalateNow ends the current step's wait: the next step pages now.
func (p *pager) escalateNow(ctx workflow.Context, a paging.Action) (paging.ActionResult, error) {
	p.hurry = true
	return paging.ActionResult{PageID: p.in.PageID, Status: p.state.Status, By: actor(a), Changed: true}, nil
}

// versionDurableSettle makes an acknowledgement or resolution take effect
// only once its record is written: before it, the page stopped first and a
// record that could not be written left it silent for ever.
const versionDurableSettle = "page-settle-durable-first"

// ack acknowledges the page: the record is written, then every pending
// notification stops. A record that cannot be written fails the update and
// changes nothing: the page keeps escalating.
func (p *pager) ack(ctx workflow.Context, a paging.Action) (paging.ActionResult, error) {
	by := actor(a)
	if workflow.GetVersion(ctx, versionDurableSettle, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		p.state.Status, p.state.AckedBy = paging.StatusAcked, by
		p.stop(ctx, a.CallSID)
		return p.settle(ctx, paging.StatusAcked, by, a.Via)
	}
	return p.settleDurably(ctx, a, paging.StatusAcked, by, func() {
		p.state.Status, p.state.AckedBy = paging.StatusAcked, by
	})
}

// resolve resolves the page (acknowledging it if it was open) and ends it,
// once the record is written.
func (p *pager) resolve(ctx workflow.Context, a paging.Action) (paging.ActionResult, error) {
	by := actor(a)
	if workflow.GetVersion(ctx, versionDurableSettle, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		p.state.Status, p.state.ResolvedBy = paging.StatusResolved, by
		p.stop(ctx, a.CallSID)
		return p.settle(ctx, paging.StatusResolved, by, a.Via)
	}
	return p.settleDurably(ctx, a, paging.StatusResolved, by, func() {
		p.state.Status, p.state.ResolvedBy = paging.StatusResolved, by
	})
}

// settleDurably writes an acknowledgement or resolution, then applies it
// (apply changes the state) and stops every pending notification. One
// write runs at a time: an update that arrives while another is being
// written waits for it, then is refused if that one took effect.
func (p *pager) settleDurably(ctx workflow.Context, a paging.Action, status, by string, apply func()) (paging.ActionResult, error) {
	if err := workflow.Await(ctx, func() bool { return !p.settling }); err != nil {
		return paging.ActionResult{}, err
	}
	switch {
	case p.state.Status == paging.StatusResolved:
		return paging.ActionResult{}, p.refusal(paging.ErrTypeResolved, "resolved")
	case p.state.Status == paging.StatusAcked && status == paging.StatusAcked:
		return paging.ActionResult{}, p.refusal(paging.ErrTypeAcked, "acknowledged")
	}
	p.settling = true
	lctx := workflow.WithLocalActivityOptions(ctx, settleOptions())
	var pg paging.Page
	err := workflow.ExecuteLocalActivity(lctx, ActivityPageSetStatus,
		activities.PageStatusInput{PageID: p.in.PageID, Status: status, By: by, Via: a.Via}).Get(ctx, &pg)
	p.settling = false
	if err != nil {
		return paging.ActionResult{}, fmt.Errorf("record page %s: %w", status, err)
	}
	apply()
	p.stop(ctx, a.CallSID)
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchPageStatus.ValueSet(status))
	p.announce(ctx, status)
	return paging.ActionResult{PageID: p.in.PageID, Status: status, By: by, Changed: true}, nil
}

// settleOptions bound the write of an acknowledgement: retried through a
// short outage, then failed, so that the caller hears it did not land
// (and the page keeps escalating) rather than waiting for ever.
func settleOptions() workflow.LocalActivityOptions {
	o := untilWrittenOptions()
	o.ScheduleToCloseTimeout = time.Minute
	return o
}

func actor(a paging.Action) string {
	if by := strings.TrimSpace(a.By); by != "" {
		return by
	}
	if a.Via != "" {
		return a.Via
	}
	return "someone"
}

// settle records an acknowledgement or resolution. It retries until the
// record is written: the answer to the update says it is durable.
func (p *pager) settle(ctx workflow.Context, status, by, via string) (paging.ActionResult, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchPageStatus.ValueSet(status))
	lctx := workflow.WithLocalActivityOptions(ctx, untilWrittenOptions())
	var pg paging.Page
	err := workflow.ExecuteLocalActivity(lctx, ActivityPageSetStatus,
		activities.PageStatusInput{PageID: p.in.PageID, Status: status, By: by, Via: via}).Get(ctx, &pg)
	if err != nil {
		return paging.ActionResult{}, fmt.Errorf("record page %s: %w", status, err)
	}
	p.announce(ctx, status)
	if status == paging.StatusResolved {
		workflow.GetLogger(ctx).Info("page resolved", "page", p.in.PageID, "by", by, "via", via)
	} else {
		workflow.GetLogger(ctx).Info("page acknowledged", "page", p.in.PageID, "by", by, "via", via)
	}
	return paging.ActionResult{PageID: p.in.PageID, Status: status, By: by, Changed: true}, nil
}

// stop cancels every notification not yet handed to a provider — timers,
// deliveries waiting for the rate limit, retries — and hangs up the page's
// calls (except the one that acknowledged it). It runs once.
func (p *pager) stop(ctx workflow.Context, exceptCall string) {
	if p.stopped {
		return
	}
	p.stopped = true
	p.cancel()
	timeline := workflow.GetVersion(ctx, versionCanceledInTimeline, workflow.DefaultVersion, 1)
	var canceled []paging.Event
	for i := range p.state.Notifications {
		ns := &p.state.Notifications[i]
		if ns.Status == "scheduled" && timeline != workflow.DefaultVersion {
			// Never fired: its fate goes in the timeline now. One in flight
			// ("sending") is recorded by send, as it returns.
			canceled = append(canceled, paging.Event{
				Kind: paging.EventCanceled, Key: "canceled/" + ns.MessageID, User: ns.User, Medium: ns.Medium,
				Contact: ns.Contact, MessageID: ns.MessageID, Detail: "not sent: " + p.settledFirst() + " before it was due",
			})
		}
		if s := ns.Status; s == "scheduled" || s == "sending" {
			ns.Status = klaxon.StatusCanceled
		}
	}
	if len(canceled) > 0 {
		p.pending++
		rctx, _ := workflow.NewDisconnectedContext(ctx)
		workflow.Go(rctx, func(ctx workflow.Context) {
			defer func() { p.pending-- }()
			p.record(ctx, activities.PageEventInput{PageID: p.in.PageID, Events: canceled})
		})
	}
	p.pending++
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	workflow.Go(dctx, func(ctx workflow.Context) {
		defer func() { p.pending-- }()
		actx := workflow.WithActivityOptions(ctx, hangUpOptions())
		in := activities.HangUpInput{PageID: p.in.PageID, Except: exceptCall}
		if err := workflow.ExecuteActivity(actx, ActivityPageHangUpCalls, in).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("hang up page calls", "page", p.in.PageID, "error", err)
		}
		// A call the provider was accepting as the page was acknowledged
		// shows up now.
		_ = workflow.Sleep(ctx, hangUpAgainAfter)
		if err := workflow.ExecuteActivity(actx, ActivityPageHangUpCalls, in).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("hang up page calls", "page", p.in.PageID, "error", err)
		}
	})
}

// step is one step of the plan.
type step struct {
	targets []string
	// delay is the wait before the next step; zero means "the people's
	// last medium plus defaultStepWait" (user and rotation targets).
	delay time.Duration
}

// escalate runs the plan: steps, repeats, and the chains of the people
// each step reaches. ctx is canceled when the page is acknowledged.
func (p *pager) escalate(ctx workflow.Context) {
	steps, repeats, ok := p.plan(ctx)
	if !ok {
		return
	}
	every := time.Duration(p.in.EscalateAfterSeconds) * time.Second
	n := 0
	for round := 0; round <= repeats; round++ {
		for si, st := range steps {
			if ctx.Err() != nil {
				return
			}
			p.state.Round, p.state.Step = round, n
			plan, err := p.beginStep(ctx, n, st.targets)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				workflow.GetLogger(ctx).Error("begin page step", "page", p.in.PageID, "step", n, "error", err)
			}
			// The step's timeline entries, stamped now, go in with the
			// record of its first notification to finish, so that their
			// write never delays the first text; on their own when nothing
			// is due at once.
			now := workflow.Now(ctx)
			for i := range plan.Events {
				plan.Events[i].At = now
			}
			p.stepEvents = append(p.stepEvents, plan.Events...)
			chains := p.startChains(ctx, n, plan)
			if !dueNow(chains) {
				dctx, _ := workflow.NewDisconnectedContext(ctx)
				p.record(dctx, activities.PageEventInput{PageID: p.in.PageID, Events: p.takeStepEvents()})
			}
			n++
			if p.in.Urgency == paging.UrgencyLow {
				p.finish(ctx)
				return
			}
			if round == repeats && si == len(steps)-1 {
				break
			}
			if len(chains) == 0 {
				continue // nobody to wait for: the next step runs now
			}
			wait := st.delay
			switch {
			case every > 0:
				wait = every
				if st.delay == 0 {
					wait = lastOffset(chains) + every
				}
			case wait == 0:
				wait = lastOffset(chains) + defaultStepWait
			}
			// Everyone unreachable (every medium failed for good): no point
			// in waiting out the step.
			if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return allDead(chains) || p.hurry }); err != nil {
				return
			}
			p.hurry = false
		}
	}
	p.finish(ctx)
}

// finish waits for the last chains to fire and their notifications to go
// out, then records that the escalation ran out with nobody acknowledging.
func (p *pager) finish(ctx workflow.Context) {
	if err := workflow.Await(ctx, func() bool {
		for _, c := range p.chains {
			if !c.done() {
				return false
			}
		}
		return p.sending == 0
	}); err != nil {
		return
	}
	p.state.Exhausted = true
	workflow.GetLogger(ctx).Warn("page exhausted: nobody acknowledged", "page", p.in.PageID, "urgency", p.in.Urgency)
	detail := "every step has fired and nobody has acknowledged; the page stays open"
	if p.in.Urgency == paging.UrgencyLow {
		detail = "low urgency: one notification per person, no escalation; the page stays open"
	}
	p.record(ctx, activities.PageEventInput{PageID: p.in.PageID, Events: []paging.Event{{
		Kind: paging.EventExhausted, Key: "exhausted", Detail: detail,
	}}})
}

// plan returns the page's steps and how often they repeat. A user or
// rotation target is one step, repeated twice; a policy is loaded now.
func (p *pager) plan(ctx workflow.Context) ([]step, int, bool) {
	t, err := paging.ParseTarget(p.in.Target)
	if err != nil {
		p.skip(ctx, "plan", p.in.Target, klaxon.ErrorMessageOf(err))
		return nil, 0, false
	}
	if t.Kind != paging.TargetPolicy {
		return []step{{targets: []string{t.String()}}}, implicitRepeats, true
	}
	lctx := workflow.WithLocalActivityOptions(ctx, untilWrittenOptions())
	var pol paging.Policy
	if err := workflow.ExecuteLocalActivity(lctx, ActivityPagePolicy, t.Name).Get(ctx, &pol); err != nil {
		if ctx.Err() == nil {
			p.skip(ctx, "plan", p.in.Target, "the policy could not be loaded: "+rootMessage(err))
		}
		return nil, 0, false
	}
	steps := make([]step, 0, len(pol.Steps))
	for _, s := range pol.Steps {
		steps = append(steps, step{targets: s.Targets, delay: time.Duration(s.DelaySeconds) * time.Second})
	}
	return steps, pol.Repeat, len(steps) > 0
}

func (p *pager) skip(ctx workflow.Context, key, target, reason string) {
	p.record(ctx, activities.PageEventInput{PageID: p.in.PageID, Events: []paging.Event{{
		Kind: paging.EventSkipped, Key: "skipped/" + key + "/" + target, Detail: target + ": " + reason,
	}}})
}

// beginStep resolves a step's targets now.
func (p *pager) beginStep(ctx workflow.Context, n int, targets []string) (activities.StepPlan, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, untilWrittenOptions())
	var plan activities.StepPlan
	err := workflow.ExecuteLocalActivity(lctx, ActivityPageBeginStep,
		activities.StepInput{PageID: p.in.PageID, Step: n, Targets: targets}).Get(ctx, &plan)
	return plan, err
}

// startChains starts the escalation of every person a step reached. A
// person still being escalated from an earlier step or pass carries on
// where they are rather than starting over.
func (p *pager) startChains(ctx workflow.Context, n int, plan activities.StepPlan) []*chain {
	every := time.Duration(p.in.EscalateAfterSeconds) * time.Second
	var chains []*chain
	seq := 0
	now := workflow.Now(ctx)
	for _, person := range plan.People {
		if c := p.active[person.UserID]; c != nil && !c.done() {
			chains = append(chains, c)
			continue
		}
		groups := planChain(person, p.in.Mode, p.in.Urgency, every)
		if len(groups) == 0 {
			p.skip(ctx, strconv.Itoa(n), "user:"+person.Handle, "no text or email contact for a low-urgency page")
			continue
		}
		c := &chain{user: person.Handle, hurry: make([]bool, len(groups))}
		code := replyCode(person)
		texts := workflow.GetVersion(ctx, versionPageIDs, workflow.DefaultVersion, 1)
		for gi, g := range groups {
			grp := &group{offset: g.offset}
			for _, contact := range g.contacts {
				id := fmt.Sprintf("page/%d/%d/%d/%s", p.in.PageID, n, seq, contact.Medium)
				seq++
				nt := &notice{msg: p.message(id, contact, code, texts), chain: c, group: gi, idx: len(p.state.Notifications)}
				if contact.Medium.TakesReplies() {
					nt.phone = contact.Address
				}
				nt.contactID = contact.ID
				p.notices[id] = nt
				p.state.Notifications = append(p.state.Notifications, NotificationState{
					MessageID: id, User: person.Handle, Medium: contact.Medium,
					Contact: shownContact(contact),
					Due:     now.Add(g.offset), Status: "scheduled",
				})
				grp.notices = append(grp.notices, nt)
			}
			c.groups = append(c.groups, grp)
		}
		p.active[person.UserID] = c
		p.chains = append(p.chains, c)
		chains = append(chains, c)
		workflow.Go(ctx, func(ctx workflow.Context) { p.runChain(ctx, c) })
	}
	return chains
}

// runChain fires a person's notification groups at their offsets, or at
// once when the group before failed for good.
func (p *pager) runChain(ctx workflow.Context, c *chain) {
	start := workflow.Now(ctx)
	for gi, g := range c.groups {
		if wait := g.offset - workflow.Now(ctx).Sub(start); wait > 0 && !c.hurry[gi] {
			if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return c.hurry[gi] }); err != nil {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		c.fired = gi + 1
		for _, nt := range g.notices {
			p.pending++
			p.sending++
			workflow.Go(ctx, func(ctx workflow.Context) {
				defer func() { p.pending--; p.sending-- }()
				p.send(ctx, nt)
			})
		}
	}
}

// send delivers one notification and records it in the timeline.
func (p *pager) send(ctx workflow.Context, nt *notice) {
	p.state.Notifications[nt.idx].Status = klaxon.StatusSending
	ns := p.state.Notifications[nt.idx]
	ev := paging.Event{User: ns.User, Medium: ns.Medium, Contact: ns.Contact, MessageID: nt.msg.ID}
	r, err := deliver(ctx, nt.msg, DeliverOptions{GiveUpAfter: pageGiveUp})
	// The timeline entry is written even if the page was acknowledged
	// meanwhile.
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	if err != nil {
		if ctx.Err() != nil || errorType(err) == activities.ErrTypeCanceled {
			p.state.Notifications[nt.idx].Status = klaxon.StatusCanceled
			evs := p.takeStepEvents()
			if workflow.GetVersion(ctx, versionCanceledInTimeline, workflow.DefaultVersion, 1) != workflow.DefaultVersion {
				ev.Kind, ev.Key = paging.EventCanceled, "canceled/"+nt.msg.ID
				ev.Detail = "not sent: " + p.settledFirst() + " before a provider took it"
				evs = append(evs, ev)
			}
			if len(evs) > 0 {
				p.record(dctx, activities.PageEventInput{PageID: p.in.PageID, Events: evs})
			}
			return
		}
		p.state.Notifications[nt.idx].Status = klaxon.StatusFailed
		ev.Kind, ev.Key, ev.Detail = paging.EventFailed, "failed/"+nt.msg.ID, errorType(err)+": "+rootMessage(err)
		p.record(dctx, activities.PageEventInput{PageID: p.in.PageID, Events: append(p.takeStepEvents(), ev)})
		p.failed(nt)
		return
	}
	if ns := &p.state.Notifications[nt.idx]; klaxon.StatusRank(ns.Status) < klaxon.StatusRank(klaxon.StatusSent) {
		ns.Status = klaxon.StatusSent
	}
	p.state.Sent++
	ev.Kind, ev.Key, ev.Detail = paging.EventNotified, "notified/"+nt.msg.ID, r.ProviderID
	// Statuses that came back before the provider's id was known could not
	// reach the workflow: the record brings them.
	early := p.record(dctx, activities.PageEventInput{
		PageID: p.in.PageID, Events: append(p.takeStepEvents(), ev), NotifiedPhone: nt.phone,
		ProviderID: r.ProviderID, MessageID: nt.msg.ID, Medium: nt.msg.Medium, To: nt.msg.To,
		ContactID: nt.refContact(),
	})
	for _, d := range early {
		p.onDelivery(PageDelivery{MessageID: nt.msg.ID, Status: d.Status, AnsweredBy: d.AnsweredBy})
	}
}

// versionCanceledInTimeline marks page workflows that record every
// notification the acknowledgement (or resolution) stopped — one in flight,
// one not yet due — as a "canceled" timeline entry; older ones left them in
// the state query only.
const versionCanceledInTimeline = "page-canceled-in-timeline"

// settledFirst says what stopped the page's notifications.
func (p *pager) settledFirst() string {
	if p.state.Status == paging.StatusResolved {
		return "the page was resolved"
	}
	return "the page was acknowledged"
}

// failed marks a notification as failed for good; when its whole group has
// failed, the person's next group is due now.
func (p *pager) failed(nt *notice) {
	nt.failed = true
	c := nt.chain
	for _, other := range c.groups[nt.group].notices {
		if !other.failed {
			return
		}
	}
	if next := nt.group + 1; next < len(c.hurry) {
		c.hurry[next] = true
	}
}

// onDelivery applies a provider status: an undelivered text, an unanswered
// or failed call, or a call that reached voicemail is a failure that moves
// the person to their next medium at once.
func (p *pager) onDelivery(d PageDelivery) {
	nt, ok := p.notices[d.MessageID]
	if !ok {
		return
	}
	ns := &p.state.Notifications[nt.idx]
	if klaxon.StatusRank(d.Status) > klaxon.StatusRank(ns.Status) || ns.Status == klaxon.StatusSending {
		ns.Status = d.Status
	}
	if strings.HasPrefix(d.AnsweredBy, "machine") {
		nt.machine = true
	}
	answeredBy := d.AnsweredBy
	if nt.machine {
		answeredBy = "machine"
	}
	if paging.NotReached(d.Status, answeredBy) && !nt.failed && !p.stopped {
		p.failed(nt)
	}
}

// record adds timeline entries (a failure to do so is logged, never fatal)
// and returns the provider statuses a notification's record found.
func (p *pager) record(ctx workflow.Context, in activities.PageEventInput) []activities.DeliveryStatus {
	lctx := workflow.WithLocalActivityOptions(ctx, untilWrittenOptions())
	var early []activities.DeliveryStatus
	if err := workflow.ExecuteLocalActivity(lctx, ActivityPageRecordEvent, in).Get(ctx, &early); err != nil {
		workflow.GetLogger(ctx).Warn("record page events", "page", p.in.PageID, "events", len(in.Events), "error", err)
	}
	return early
}

// plannedGroup is a set of contacts notified together at an offset.
type plannedGroup struct {
	offset   time.Duration
	contacts []activities.StepContact
}

// planChain decides how a person is reached: in blast mode every verified
// contact at once; at low urgency one text (or, without a phone, one email);
// otherwise by their notification rules (the defaults when none of theirs
// matches a contact), one group per distinct delay. every, when set,
// replaces the rules' delays: group i is due at i*every.
func planChain(person activities.StepPerson, mode, urgency string, every time.Duration) []plannedGroup {
	byMedium := func(m klaxon.Medium) []activities.StepContact {
		var out []activities.StepContact
		for _, c := range person.Contacts {
			if c.Medium == m {
				out = append(out, c)
			}
		}
		return out
	}
	switch {
	case mode == paging.ModeBlast:
		return []plannedGroup{{contacts: person.Contacts}}
	case urgency == paging.UrgencyLow:
		for _, m := range []klaxon.Medium{klaxon.SMS, klaxon.Email} {
			if cs := byMedium(m); len(cs) > 0 {
				return []plannedGroup{{contacts: cs[:1]}}
			}
		}
		return nil
	}
	build := func(rules []paging.NotificationRule) []plannedGroup {
		var groups []plannedGroup
		for _, r := range rules {
			cs := byMedium(r.Medium)
			if len(cs) == 0 {
				continue
			}
			offset := time.Duration(r.DelaySeconds) * time.Second
			if n := len(groups); n > 0 && groups[n-1].offset == offset {
				groups[n-1].contacts = append(groups[n-1].contacts, cs...)
				continue
			}
			groups = append(groups, plannedGroup{offset: offset, contacts: cs})
		}
		return groups
	}
	groups := build(person.Rules)
	if len(groups) == 0 {
		groups = build(paging.DefaultNotificationRules())
	}
	if every > 0 {
		for i := range groups {
			groups[i].offset = time.Duration(i) * every
		}
	}
	return groups
}

// takeStepEvents returns the step's unwritten timeline entries, once.
func (p *pager) takeStepEvents() []paging.Event {
	evs := p.stepEvents
	p.stepEvents = nil
	return evs
}

// dueNow reports whether a newly started chain fires a group at once.
func dueNow(chains []*chain) bool {
	for _, c := range chains {
		if c.fired == 0 && len(c.groups) > 0 && c.groups[0].offset == 0 {
			return true
		}
	}
	return false
}

// lastOffset is the latest offset of any group of the chains.
func lastOffset(chains []*chain) time.Duration {
	var last time.Duration
	for _, c := range chains {
		if n := len(c.groups); n > 0 {
			last = max(last, c.groups[n-1].offset)
		}
	}
	return last
}

func allDead(chains []*chain) bool {
	for _, c := range chains {
		if !c.dead() {
			return false
		}
	}
	return len(chains) > 0
}

// replyCode is the reply code a person's texts name: their first phone's.
func replyCode(person activities.StepPerson) int {
	for _, c := range person.Contacts {
		if c.Medium.TakesReplies() && c.Code > 0 {
			return c.Code
		}
	}
	for _, c := range person.Contacts {
		if c.Code > 0 {
			return c.Code
		}
	}
	return 0
}

// shownContact is a contact's redacted address, for the page's state.
func shownContact(c activities.StepContact) string {
	if c.Shown != "" {
		return c.Shown
	}
	return redact.Address(c.Address)
}

// refContact is the contact the record of nt must load its recipient
// from: none when nt's message carries it (a history recorded before
// references).
func (nt *notice) refContact() int64 {
	if nt.msg.To != "" {
		return 0
	}
	return nt.contactID
}

// versionPageIDs marks page workflows whose texts and emails name the
// page's id beside the reply code ("Page #2: ... Reply 1a to ack"); older
// ones named the reply code alone ("Page 1: ...").
const versionPageIDs = "page-id-in-texts"

// message builds one notification of the page for one contact. texts is
// the workflow's versionPageIDs.
func (p *pager) message(id string, c activities.StepContact, code int, texts workflow.Version) klaxon.Message {
	m := klaxon.Message{
		ID: id, Medium: c.Medium, To: c.Address, Priority: klaxon.Urgent,
		Purpose: paging.PurposePage, Ref: strconv.FormatInt(p.in.PageID, 10),
		ThreadKey: "page/" + strconv.FormatInt(p.in.PageID, 10),
	}
	if c.Address == "" {
		m.ToRef = "contact:" + strconv.FormatInt(c.ID, 10)
	}
	if c.Code > 0 {
		code = c.Code
	}
	if texts != workflow.DefaultVersion {
		// An operator's override of the text (KLAXON_TEXTS) is applied as
		// it is sent, from these.
		m.Vars = map[string]string{
			"Brand": p.in.Brand, "PageID": strconv.FormatInt(p.in.PageID, 10), "Code": strconv.Itoa(code),
			"Summary": oneLine(p.in.Summary), "Details": strings.TrimSpace(p.in.Details), "RequestedBy": p.in.RequestedBy,
		}
		switch c.Medium {
		case klaxon.SMS:
			m.Text = "page.sms"
		case klaxon.Email:
			m.Text = "page.email"
		}
	}
	switch c.Medium {
	case klaxon.SMS:
		if texts == workflow.DefaultVersion {
			m.Body = pageTextV0(code, p.in.Summary, p.in.RequestedBy)
		} else {
			m.Body = PageText(p.in.PageID, code, p.in.Summary, p.in.RequestedBy)
		}
	case klaxon.Voice:
		m.Body = pageSpoken(p.in.Summary, p.in.RequestedBy)
	default:
		if texts == workflow.DefaultVersion {
			m.Subject, m.Body = pageEmailV0(p.in, code)
		} else {
			m.Subject, m.Body = pageEmail(p.in, code)
		}
	}
	return m
}

// PageText is the text of a page: "Page #2: derp is broken. Reply 3a to
// ack, 3c to resolve." — the page's id (what `klaxon page show 2` takes)
// and the phone's reply code (what a reply names) are two things — or
// "alincoln needs you now (page #2): derp is broken. Reply ..." when a
// person asked. It fits one SMS segment when the text is GSM-7 (two when it
// needs UCS-2), shortening the summary, never the instructions.
func PageText(pageID int64, code int, summary, requestedBy string) string {
	s := sentence(summary)
	head := fmt.Sprintf("Page #%d: %s", pageID, s)
	if requestedBy != "" {
		head = fmt.Sprintf("%s needs you now (page #%d): %s", requestedBy, pageID, s)
	}
	suffix := fmt.Sprintf(" Reply %da to ack, %dc to resolve.", code, code)
	segments := 1
	if sms.EncodingOf(head+suffix) == sms.UCS2 {
		segments = 2
	}
	return sms.Fit(head, suffix, segments)
}

// pageTextV0 is the text of a page before versionPageIDs: "Page 3: ...",
// 3 being the reply code.
func pageTextV0(code int, summary, requestedBy string) string {
	s := sentence(summary)
	head := fmt.Sprintf("Page %d: %s", code, s)
	if requestedBy != "" {
		head = requestedBy + " needs you now: " + s
	}
	suffix := fmt.Sprintf(" Reply %da to ack, %dc to resolve.", code, code)
	segments := 1
	if sms.EncodingOf(head+suffix) == sms.UCS2 {
		segments = 2
	}
	return sms.Fit(head, suffix, segments)
}

// pageSpoken is what a call says about the page.
func pageSpoken(summary, requestedBy string) string {
	s := sentence(summary)
	if requestedBy != "" {
		return requestedBy + " needs you now: " + s
	}
	return s
}

// pageEmail is the subject and body of a page's email: the page's id, and
// the reply code of the person's phone when they have one.
func pageEmail(in PageInput, code int) (subject, body string) {
	subject = fmt.Sprintf("[%s] Page #%d: %s", in.Brand, in.PageID, clip(oneLine(in.Summary), 120))
	var b strings.Builder
	writePageEmailText(&b, in)
	b.WriteString(fmt.Sprintf("\nPage #%d is open and escalating until someone acknowledges it.\n", in.PageID))
	if code > 0 {
		b.WriteString(fmt.Sprintf("Its reply code on your phone is %d: text %da to the paging number to acknowledge it (%dc resolves it),\n", code, code, code))
		b.WriteString(fmt.Sprintf("or run: klaxon ack %d\n", in.PageID))
	} else {
		b.WriteString(fmt.Sprintf("To acknowledge, run: klaxon ack %d\n", in.PageID))
	}
	return subject, b.String()
}

// writePageEmailText writes what every version of a page's email opens
// with: who asked, the summary and the details.
func writePageEmailText(b *strings.Builder, in PageInput) {
	if in.RequestedBy != "" {
		// Sprintf, not Fprintf: workflowcheck counts writes to a Writer
		// as non-deterministic.
		b.WriteString(fmt.Sprintf("%s needs you now.\n\n", in.RequestedBy))
	}
	b.WriteString(strings.TrimSpace(in.Summary))
	b.WriteString("\n")
	if d := strings.TrimSpace(in.Details); d != "" {
		b.WriteString("\n" + d + "\n")
	}
}

// pageEmailV0 is a page's email before versionPageIDs.
func pageEmailV0(in PageInput, code int) (subject, body string) {
	subject = fmt.Sprintf("[%s] Page %d: %s", in.Brand, in.PageID, clip(oneLine(in.Summary), 120))
	var b strings.Builder
	writePageEmailText(&b, in)
	b.WriteString(fmt.Sprintf("\nPage %d is open and escalating until someone acknowledges it.\n", in.PageID))
	if code > 0 {
		b.WriteString(fmt.Sprintf("To acknowledge, text %da to the paging number (%dc resolves it),\n", code, code))
		b.WriteString(fmt.Sprintf("or run: klaxon ack %d\n", in.PageID))
	} else {
		b.WriteString(fmt.Sprintf("To acknowledge, run: klaxon ack %d\n", in.PageID))
	}
	return subject, b.String()
}

// sentence makes a summary one line ending in punctuation.
func sentence(s string) string {
	s = oneLine(s)
	if s == "" {
		return s
	}
	if r := []rune(s); !unicode.IsPunct(r[len(r)-1]) {
		s += "."
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// untilWrittenOptions are for what must not be given up on: what a step
// needs before it can reach anyone (its policy, its people) — a step that
// gave up would reach nobody and look exhausted — and timeline entries and
// status records. Retried until Postgres answers, however long that takes.
func untilWrittenOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: 10 * time.Second},
	}
}

// lookupOptions are for the quick reads and bookkeeping of a text to the
// paging number: retried for a while, then answered with "try again".
func lookupOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 5 * time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: 10 * time.Second},
	}
}

// hangUpOptions are for hanging up a page's calls: a provider call, retried
// for a minute.
func hangUpOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second},
	}
}
