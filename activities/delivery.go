// Package activities holds Klaxon's Temporal activities: thin wrappers, one
// side effect each, around the outside gateways (Postgres, Twilio, SMTP). They
// classify every failure at the edge: permanent ones become non-retryable
// application errors with a named type, the rest go back to the retry policy.
package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/ratelimit"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/texts"
)

// Provider hands one message to the provider of one medium (Twilio SMS,
// Twilio Voice, SMTP). It returns a *klaxon.DeliveryError for every refusal.
type Provider interface {
	Send(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error)
}

// Finder is a provider that can tell whether it already took a message: the
// send of an earlier attempt whose worker died before recording the answer.
// FindSent lists what it took at or after since with m's recipient, sender
// and content, newest first.
type Finder interface {
	FindSent(ctx context.Context, m klaxon.Message, since time.Time) ([]klaxon.Receipt, error)
}

// Error types of the non-retryable application errors the delivery
// activities return, besides the providers' own kinds.
const (
	ErrTypeOptedOut  = "OptedOut"
	ErrTypeCanceled  = "Canceled"
	ErrTypeNoRoute   = "NoProvider"
	ErrTypeRateLimit = "RateLimited"
)

// Delivery is the one delivery pipeline's side of Temporal: it records,
// rate-limits, sends and audits every outbound message.
type Delivery struct {
	Store *store.Store
	// Texts are the operator's overrides of user-facing texts (nil: none):
	// a message naming an overridden text is sent with the override.
	Texts     *texts.Texts
	Providers map[klaxon.Medium]Provider
	// From is the default sender per medium, used when a message names none.
	From    map[klaxon.Medium]string
	Limiter *ratelimit.Limiter
	// PerRecipient, if set, also spaces messages to one recipient on one
	// medium, so a loop or a flood cannot bury a handset.
	PerRecipient *ratelimit.Limiter
	// SlotInterval, if set, is the spacing of a sending number's texts and
	// calls across every worker: after Limiter has picked this process's
	// next sender (by priority), it claims the number's slot in Postgres.
	SlotInterval time.Duration
	// AckLinks, if set, mints the one-click acknowledge link each page
	// email carries. The link is made here, at the edge, as the email
	// leaves: only its hash is kept, and no history holds it.
	AckLinks AckLinker
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
}

// AckLinker mints a single-use link that acknowledges a page for the
// person an email goes to.
type AckLinker interface {
	AckLink(ctx context.Context, pageID int64, messageID, handle string) (string, error)
}

// Lanes of a delivery: the first, fast attempt runs as a local activity; the
// retries run as a regular activity under the retry policy.
const (
	LaneFirst = "first"
	LaneRetry = "retry"
)

// SendFirst is the first, fast attempt at a message: a local activity that
// never waits for the rate limit. When the sending number has no free slot
// now it fails with a retryable RateLimited error, and the workflow hands the
// message to Send, which queues.
func (d *Delivery) SendFirst(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	return d.send(ctx, m, LaneFirst, 1, false)
}

// Send delivers a message, queueing for the sending number's rate limit
// (higher priorities first) and heartbeating while it waits. Temporal's
// retry policy calls it again on a transient failure.
func (d *Delivery) Send(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	// Heartbeat for the whole attempt — the wait for a slot and the
	// provider call — so that a worker that dies mid-attempt is noticed
	// within the short heartbeat timeout and the send moves to another.
	stop := heartbeat(ctx, HeartbeatEvery)
	defer stop()
	return d.send(ctx, m, LaneRetry, int(activity.GetInfo(ctx).Attempt), true)
}

// HeartbeatEvery is how often a retrying send heartbeats; its activity's
// heartbeat timeout is a few times this.
const HeartbeatEvery = 2 * time.Second

// heartbeat records a heartbeat every interval until the returned stop is
// called.
func heartbeat(ctx context.Context, every time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// FinalizeInput names a message whose delivery has ended without success.
type FinalizeInput struct {
	ID string
	// Status is failed, canceled or suppressed.
	Status string
	Kind   string
	Reason string
}

// Finalize records the end of a delivery that did not succeed: the retry
// policy gave up, the message was suppressed, or its page was acknowledged.
func (d *Delivery) Finalize(ctx context.Context, in FinalizeInput) error {
	if err := d.Store.MarkMessage(ctx, in.ID, in.Status, in.Kind, in.Reason); err != nil {
		return fmt.Errorf("finalize: %w", err)
	}
	return nil
}

// ErrTypeNoRecipient is the non-retryable error type of a message whose
// recipient or quoted text is gone from Postgres (a contact deleted).
const ErrTypeNoRecipient = "NoRecipient"

// resolve fills the recipient and body a workflow named by reference, from
// Postgres: the claim check that keeps them out of Temporal's history.
func (d *Delivery) resolve(ctx context.Context, m klaxon.Message) (klaxon.Message, error) {
	return ResolveMessage(ctx, d.Store, m)
}

// ResolveMessage fills the recipient and body of m, which a workflow names
// by reference, from s: the delivery activity's first step, and the test
// rigs' fake providers'.
func ResolveMessage(ctx context.Context, s *store.Store, m klaxon.Message) (klaxon.Message, error) {
	var err error
	switch {
	case m.To != "":
		// A message of a history recorded before references existed.
		return m, nil
	case m.ToRef == "":
		// Written before its delivery began: its record says it all.
		var q klaxon.Message
		q, err = s.QueuedMessage(ctx, m.ID)
		if err == nil {
			if m.From == "" {
				m.From = q.From
			}
			m.To, m.Subject, m.Body, m.ThreadKey = q.To, q.Subject, q.Body, q.ThreadKey
		}
	default:
		if m.To, m.Body, err = s.ResolveAndExpand(ctx, m.ToRef, m.Body); err == nil {
			m.Body = fitBody(m.Body)
		}
	}
	if errors.Is(err, store.ErrBadRef) || klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return m, temporal.NewNonRetryableApplicationError("the message's recipient or text is gone", ErrTypeNoRecipient, nil)
	}
	if err != nil {
		return m, fmt.Errorf("send: %w", err)
	}
	return m, nil
}

// fitBody shortens a body whose quoted words made it longer than a
// message may be, as the texts that quote them do: with "…" at the end.
func fitBody(body string) string {
	if utf8.RuneCountInString(body) <= klaxon.MaxBodyLen {
		return body
	}
	return string([]rune(body)[:klaxon.MaxBodyLen-1]) + "…"
}

func (d *Delivery) send(ctx context.Context, m klaxon.Message, lane string, attempt int, wait bool) (klaxon.Receipt, error) {
	// The body is rendered from its text (KLAXON_TEXTS) first, then its
	// recipient and quoted words are loaded.
	m, err := d.applyTexts(m)
	if err != nil {
		return klaxon.Receipt{}, err
	}
	if m, err = d.resolve(ctx, m); err != nil {
		return klaxon.Receipt{}, err
	}
	if m.From == "" {
		m.From = d.From[m.Medium]
	}
	prov, ok := d.Providers[m.Medium]
	if !ok {
		return klaxon.Receipt{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no provider for %q", m.Medium), ErrTypeNoRoute, nil)
	}
	st, err := d.Store.BeginAttempt(ctx, m, lane, attempt)
	if err != nil {
		return klaxon.Receipt{}, fmt.Errorf("send: %w", err)
	}
	switch {
	case st.ProviderID != "":
		// An earlier attempt was accepted; its result may have been lost
		// with a crashed worker. Never send twice.
		return klaxon.Receipt{ProviderID: st.ProviderID, Status: st.Status}, nil
	case st.Status == klaxon.StatusCanceled:
		return klaxon.Receipt{}, expected("message was canceled", ErrTypeCanceled, true)
	case st.OptedOut && m.Medium.HasOptOuts() && !m.IgnoreOptOut:
		de := &klaxon.DeliveryError{Permanent: true, Kind: ErrTypeOptedOut, Reason: "the recipient texted STOP"}
		if err := d.Store.FailAttempt(ctx, m.ID, lane, attempt, true, klaxon.StatusSuppressed, de); err != nil {
			return klaxon.Receipt{}, fmt.Errorf("send: %w", err)
		}
		d.count(m, "suppressed")
		return klaxon.Receipt{}, expected(de.Error(), de.Kind, true, de)
	}

	if f, ok := prov.(Finder); ok && !st.Unsettled.IsZero() {
		if r, err := d.findSent(ctx, f, m, lane, attempt, st.Unsettled); err != nil || r.ProviderID != "" {
			return r, err
		}
	}

	if err := d.takeSlots(ctx, m, wait); err != nil {
		outcome, kind, reason := store.AttemptInterrupted, "Interrupted", redact.Text(err.Error())
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Type() == ErrTypeRateLimit {
			outcome, kind, reason = store.AttemptQueued, ErrTypeRateLimit, "the sending number was at its rate limit: queued for the next attempt"
		}
		d.endAttempt(ctx, m, lane, attempt, outcome, kind, reason)
		return klaxon.Receipt{}, err
	}
	if wait {
		// (paging) The wait for a slot can be long, and an activity hears
		// of its cancellation only through a heartbeat: look again, so that
		// a page text queued when the page was acknowledged is never sent.
		if canceled, err := d.Store.MessageCanceled(ctx, m.ID); err == nil && canceled {
			d.endAttempt(ctx, m, lane, attempt, store.AttemptCanceled, ErrTypeCanceled, "canceled while it waited for the rate limit")
			return klaxon.Receipt{}, expected("message was canceled", ErrTypeCanceled, true)
		}
	}

	// From here the message may reach the provider. Neither the call nor
	// the record of its outcome may be cut short by a cancellation — a
	// stopping worker or an acknowledged page: a request abandoned in flight
	// may still have been accepted, and an outcome left unrecorded makes the
	// next attempt send again. The activity's deadline still bounds the
	// call, so a hung provider cannot outlive the attempt.
	callCtx, cancel := detach(ctx, 0)
	defer cancel()
	if m.Purpose == store.PurposePage && m.Medium == klaxon.Email && d.AckLinks != nil {
		m = d.withAckLink(callCtx, m)
	}
	start := time.Now()
	r, err := prov.Send(callCtx, m)
	d.Metrics.ProviderSeconds.WithLabelValues(string(m.Medium)).Observe(time.Since(start).Seconds())
	ctx, cancelRecord := detach(ctx, recordTimeout)
	defer cancelRecord()
	if err == nil {
		if err := d.Store.FinishAttempt(ctx, m.ID, lane, attempt, r); err != nil {
			// The provider has the message; retrying would send it twice.
			// Report success and let the status callbacks fill the record.
			d.Logger.ErrorContext(ctx, "record accepted message", "message", m.ID, "error", err)
		}
		d.count(m, "accepted")
		return r, nil
	}

	return klaxon.Receipt{}, d.fail(ctx, m, lane, attempt, err)
}

// applyTexts puts the operator's override of the text a message names in
// its body (and subject): "page.sms" for a text, "page.email.subject" and
// "page.email.body" for an email named "page.email". Overrides were
// checked at start, so a failure here is a bug: permanent.
func (d *Delivery) applyTexts(m klaxon.Message) (klaxon.Message, error) {
	if m.Text == "" || d.Texts == nil {
		return m, nil
	}
	fields := []struct {
		name string
		dst  *string
	}{{m.Text, &m.Body}}
	if m.Medium.HasSubject() {
		fields = []struct {
			name string
			dst  *string
		}{{m.Text + ".subject", &m.Subject}, {m.Text + ".body", &m.Body}}
	}
	for _, f := range fields {
		s, ok, err := d.Texts.Render(f.name, m.Vars)
		if err != nil {
			return m, temporal.NewNonRetryableApplicationError(err.Error(), "BadText", nil)
		}
		if ok {
			*f.dst = s
		}
	}
	return m, nil
}

// endAttempt records the outcome of an attempt that never called the
// provider; a failure to record it is logged (the next attempt then asks
// the provider first, which is slower, never wrong).
func (d *Delivery) endAttempt(ctx context.Context, m klaxon.Message, lane string, attempt int, outcome, kind, reason string) {
	rctx, cancel := detach(ctx, recordTimeout)
	defer cancel()
	if err := d.Store.EndAttempt(rctx, m.ID, lane, attempt, outcome, kind, reason); err != nil {
		d.Logger.WarnContext(ctx, "record attempt outcome", "message", m.ID, "lane", lane, "attempt", attempt, "error", err)
	}
}

// fail records a failed attempt — a refused send, or a provider that could
// not say whether it has the message — and returns the activity's failure.
// ctx must outlive the attempt's cancellation.
func (d *Delivery) fail(ctx context.Context, m klaxon.Message, lane string, attempt int, err error) error {
	var de *klaxon.DeliveryError
	if !errors.As(err, &de) {
		de = &klaxon.DeliveryError{Kind: "Unclassified", Reason: redact.Text(err.Error()), Err: err}
	}
	if ferr := d.Store.FailAttempt(ctx, m.ID, lane, attempt, de.Permanent, klaxon.StatusFailed, de); ferr != nil {
		d.Logger.ErrorContext(ctx, "record failed attempt", "message", m.ID, "error", ferr)
	}
	d.Logger.WarnContext(ctx, "delivery attempt failed", "message", m.ID, "medium", m.Medium,
		"to", redact.Address(m.To), "lane", lane, "attempt", attempt, "kind", de.Kind, "code", de.Code, "permanent", de.Permanent)
	if de.Kind == ErrTypeOptedOut && m.From != "" { // never a wildcard opt-out from one message
		// The carrier says the recipient opted out: mirror it, so nothing
		// else is attempted until they text START.
		if err := d.Store.OptOut(ctx, m.To, m.From, "carrier"); err != nil {
			d.Logger.ErrorContext(ctx, "mirror carrier opt-out", "message", m.ID, "error", err)
		}
	}
	if de.Permanent {
		d.count(m, "permanent")
	} else {
		d.count(m, "transient")
	}
	return providerError(de)
}

// findSent asks the provider whether an earlier attempt, which began at
// since and never recorded an outcome, got the message through. If it did,
// that send is recorded and returned as this attempt's, and nothing is sent
// again; an empty receipt means it did not. When the provider cannot tell,
// the attempt fails (and retries, unless the refusal is permanent): a text
// late is better than a text twice.
func (d *Delivery) findSent(ctx context.Context, f Finder, m klaxon.Message, lane string, attempt int, since time.Time) (klaxon.Receipt, error) {
	candidates, err := f.FindSent(ctx, m, since)
	if err == nil && len(candidates) > 0 {
		// Another message with the same words to the same person (a
		// repeated broadcast) is not this one's send.
		var taken map[string]bool
		if taken, err = d.Store.ProviderIDsInUse(ctx, receiptIDs(candidates)); err == nil {
			candidates = slices.DeleteFunc(candidates, func(r klaxon.Receipt) bool { return taken[r.ProviderID] })
		}
	}
	rctx, cancel := detach(ctx, recordTimeout)
	defer cancel()
	if err != nil {
		// A refusal that is permanent (bad credentials, a bad number)
		// would refuse the send as well.
		return klaxon.Receipt{}, d.fail(rctx, m, lane, attempt, err)
	}
	if len(candidates) == 0 {
		return klaxon.Receipt{}, nil
	}
	// The oldest is the earliest attempt's.
	r := candidates[len(candidates)-1]
	if err := d.Store.FinishAttempt(rctx, m.ID, lane, attempt, r); err != nil {
		return klaxon.Receipt{}, fmt.Errorf("record recovered send: %w", err)
	}
	d.Logger.InfoContext(ctx, "an earlier attempt had sent the message; not sending it again",
		"message", m.ID, "medium", m.Medium, "to", redact.Address(m.To), "provider_id", r.ProviderID)
	d.count(m, "recovered")
	return r, nil
}

func receiptIDs(rs []klaxon.Receipt) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ProviderID
	}
	return ids
}

// providerError turns a provider's refusal into the activity's failure:
// non-retryable when it is permanent, typed with its kind either way. The
// failure goes into the workflow's history, causes and all, so it keeps the
// redacted classification and drops the raw error under it, whose text
// names phone numbers, addresses and the account.
func providerError(de *klaxon.DeliveryError) error {
	cause := *de
	cause.Err = nil
	cause.Reason = redact.Text(cause.Reason)
	if de.Permanent {
		return temporal.NewNonRetryableApplicationError(cause.Error(), de.Kind, &cause)
	}
	return temporal.NewApplicationErrorWithCause(cause.Error(), de.Kind, &cause)
}

// recordTimeout bounds writing the outcome of a provider call, which runs
// even after the attempt was canceled or its deadline passed.
const recordTimeout = 10 * time.Second

// detach returns a context that keeps ctx's values but not its
// cancellation. With timeout zero it keeps ctx's deadline; otherwise it
// gets a deadline of its own, timeout from now.
func detach(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	dctx := context.WithoutCancel(ctx)
	if timeout > 0 {
		return context.WithTimeout(dctx, timeout)
	}
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(dctx, dl)
	}
	return context.WithCancel(dctx)
}

// takeSlots waits for (or, on the first attempt, tries to take) the slots
// of the recipient and of the sending number.
func (d *Delivery) takeSlots(ctx context.Context, m klaxon.Message, wait bool) error {
	type slot struct {
		l   *ratelimit.Limiter
		key string
	}
	var slots []slot
	if m.Medium.RateLimitedPerSender() && d.Limiter != nil {
		slots = append(slots, slot{d.Limiter, m.From})
	}
	if d.PerRecipient != nil {
		slots = append(slots, slot{d.PerRecipient, string(m.Medium) + ":" + m.To})
	}
	// A stopping worker gives up its place in the queue at once, so that
	// the retry lands on another worker, while sends already under way get
	// the worker's stop timeout to finish.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if wait {
		stopping := activity.GetWorkerStopChannel(ctx)
		go func() {
			select {
			case <-stopping:
				cancel()
			case <-wctx.Done():
			}
		}()
	}
	for _, s := range slots {
		if s.l.TryTake(s.key) {
			continue
		}
		if !wait {
			return expected("rate limit reached; queueing", ErrTypeRateLimit, false)
		}
		d.Metrics.RateLimitWaits.Inc()
		if err := s.l.Wait(wctx, s.key, int(m.Priority)); err != nil {
			return fmt.Errorf("send: wait for rate limit: %w", err)
		}
	}
	if d.SlotInterval > 0 && m.Medium.RateLimitedPerSender() {
		return d.claimSlot(wctx, m.From, wait)
	}
	return nil
}

// claimSlot claims the sending number's next slot, shared by every worker,
// waiting for it when wait is set.
func (d *Delivery) claimSlot(ctx context.Context, from string, wait bool) error {
	for {
		ok, due, err := d.Store.TakeSendSlot(ctx, from, d.SlotInterval)
		switch {
		case err != nil:
			return fmt.Errorf("send: %w", err)
		case ok:
			return nil
		case !wait:
			return expected("rate limit reached; queueing", ErrTypeRateLimit, false)
		}
		t := time.NewTimer(min(due, d.SlotInterval))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("send: wait for rate limit: %w", ctx.Err())
		case <-t.C:
		}
	}
}

func (d *Delivery) count(m klaxon.Message, outcome string) {
	d.Metrics.Deliveries.WithLabelValues(string(m.Medium), outcome).Inc()
}

// withAckLink adds to a page email its one-click acknowledge link and the
// paging number its reply code goes to. A link that cannot be made leaves
// the email without it: the page must go out all the same.
func (d *Delivery) withAckLink(ctx context.Context, m klaxon.Message) klaxon.Message {
	pageID, err := strconv.ParseInt(m.Ref, 10, 64)
	if err != nil {
		return m
	}
	handle := ""
	if cs, err := d.Store.VerifiedContactsByAddress(ctx, m.To); err == nil && len(cs) > 0 {
		if u, err := d.Store.UserByID(ctx, cs[0].UserID); err == nil {
			handle = u.Handle
		}
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(m.Body, "\n"))
	b.WriteString("\n")
	if link, err := d.AckLinks.AckLink(ctx, pageID, m.ID, handle); err != nil {
		d.Logger.WarnContext(ctx, "page email without ack link", "page", pageID, "message", m.ID, "error", err)
	} else {
		b.WriteString("\nAcknowledge in one click (no sign-in needed):\n" + link + "\n")
	}
	if n := d.From[klaxon.SMS]; n != "" && strings.Contains(m.Body, "to the paging number") {
		b.WriteString("\nThe paging number is " + n + ": text it the reply code above.\n")
	}
	m.Body = b.String()
	return m
}
