package workflows

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/code"
)

// Defaults of every code challenge (contact verification and login codes).
const (
	DefaultCodeTTL        = 10 * time.Minute
	DefaultResendInterval = time.Minute
	DefaultMaxSends       = 5
	DefaultMaxAttempts    = 5
)

// Error types with which the verify and resend updates are refused. A
// refusal by the validator leaves no trace in the workflow's history.
const (
	ErrTypeMalformedCode = "MalformedCode"
	ErrTypeChallengeOver = "ChallengeOver"
	ErrTypeNoCodeYet     = "NoCodeYet"
	ErrTypeTooSoon       = "TooSoon"
	ErrTypeTooManySends  = "TooManySends"
)

// Workflow statuses of a code challenge (the KlaxonStatus search attribute):
// sending, waiting, then one of the final challenge statuses (verified,
// expired, locked, failed, canceled).
const (
	CodeStatusSending = "sending"
	CodeStatusWaiting = "waiting"
)

// CodeOptions tune a code challenge; zero values take the defaults.
type CodeOptions struct {
	// TTL is how long each code is valid after it is sent.
	TTL time.Duration
	// ResendInterval is the least time between two codes.
	ResendInterval time.Duration
	// MaxSends caps the codes one challenge sends (the first included).
	MaxSends int
	// Brand names Klaxon in replies to codes texted back.
	Brand string
}

func (o CodeOptions) withDefaults() CodeOptions {
	if o.TTL <= 0 {
		o.TTL = DefaultCodeTTL
	}
	if o.ResendInterval <= 0 {
		o.ResendInterval = DefaultResendInterval
	}
	if o.MaxSends <= 0 {
		o.MaxSends = DefaultMaxSends
	}
	if o.Brand == "" {
		o.Brand = "Klaxon"
	}
	return o
}

// VerifyInput is one verification of a contact method. The challenge row
// (store.StartVerification) exists before the workflow starts; its id is the
// workflow id.
type VerifyInput struct {
	ChallengeID string
	ContactID   int64
	Options     CodeOptions
}

// VerifyResult is how a verification ended: verified, expired, locked,
// failed (the code could not be delivered) or canceled.
type VerifyResult struct {
	Status string
}

// CodeCheck is the argument of UpdateVerify: the code, by reference (Ref,
// a claim the gateway wrote and the check takes), never in clear. Code is
// the code itself in histories recorded before references existed.
type CodeCheck struct {
	Code string `json:"code,omitempty"`
	Ref  string `json:"ref,omitempty"`
}

// wellFormed reports whether a check names a code: by reference, or (an
// old history) a code of the right form.
func (in CodeCheck) wellFormed() bool {
	if in.Ref != "" {
		return strings.HasPrefix(in.Ref, "claim:")
	}
	_, ok := code.Normalize(in.Code)
	return ok
}

// checkInput is the check activity's input for in.
func (in CodeCheck) checkInput(challengeID string) activities.CheckCodeInput {
	if in.Ref != "" {
		return activities.CheckCodeInput{ChallengeID: challengeID, Ref: in.Ref}
	}
	typed, _ := code.Normalize(in.Code)
	return activities.CheckCodeInput{ChallengeID: challengeID, Code: typed}
}

// CodeAnswer is the result of UpdateVerify.
type CodeAnswer struct {
	Valid        bool   `json:"valid"`
	Status       string `json:"status"`
	AttemptsLeft int    `json:"attempts_left"`
}

// ResendAnswer is the result of UpdateResend.
type ResendAnswer struct {
	Sends        int       `json:"sends"`
	ExpiresAt    time.Time `json:"expires_at"`
	NextResendAt time.Time `json:"next_resend_at"`
}

// CodeReply is the payload of SignalCodeReply: a code texted back to the
// paging number, named by its inbound event; the check and the answer load
// the code and the sender from it. Code and From are the code and the
// sender in histories recorded before references existed.
type CodeReply struct {
	Code    string `json:",omitempty"`
	From    string `json:",omitempty"`
	EventID int64
}

// CodeState is what QueryState answers for a code challenge. It never holds
// the code.
type CodeState struct {
	Status       string    `json:"status"`
	Sends        int       `json:"sends"`
	AttemptsLeft int       `json:"attempts_left"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	NextResendAt time.Time `json:"next_resend_at,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
}

// VerifyContact verifies one contact method: it sends a code by the
// contact's own medium, then waits for it (UpdateVerify from the API, or
// SignalCodeReply when the owner texts it back) until it expires or the
// tries run out, sending a new code on UpdateResend no sooner than the
// resend interval. The store marks the contact verified in the same
// transaction that accepts the code.
func VerifyContact(ctx workflow.Context, in VerifyInput) (VerifyResult, error) {
	c := newChallenge(in.ChallengeID, "verification", strconv.FormatInt(in.ContactID, 10), in.Options)
	status, err := c.run(ctx)
	return VerifyResult{Status: status}, err
}

// challenge is the one wait loop behind verifications and login codes.
type challenge struct {
	id   string
	kind string // KlaxonKind: verification or otp
	ref  string // KlaxonRef: contact id or otp id
	opts CodeOptions

	status       string
	sends        int
	attemptsLeft int
	lastSent     time.Time
	expiresAt    time.Time
	issuing      bool
	sendFailed   bool
	lastError    string
	busy         int // handlers and sends still running
	replies      int

	sendCtx     workflow.Context
	cancelSends workflow.CancelFunc
}

func newChallenge(id, kind, ref string, o CodeOptions) *challenge {
	return &challenge{id: id, kind: kind, ref: ref, opts: o.withDefaults(), status: CodeStatusSending, attemptsLeft: DefaultMaxAttempts}
}

func (c *challenge) final() bool {
	return c.status != CodeStatusSending && c.status != CodeStatusWaiting
}

func (c *challenge) setStatus(ctx workflow.Context, s string) {
	if c.status == s || c.final() {
		return
	}
	c.status = s
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet(s))
}

// codeActivityOptions are for the code activities: short, retried with
// backoff, and bounded so that a caller waiting on an update gets an
// answer.
func codeActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
		},
	}
}

func (c *challenge) run(ctx workflow.Context) (string, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SearchKind.ValueSet(c.kind), SearchRef.ValueSet(c.ref), SearchStatus.ValueSet(c.status))
	if err := c.register(ctx); err != nil {
		return c.status, fmt.Errorf("%s %s: %w", c.kind, c.id, err)
	}
	c.sendCtx, c.cancelSends = workflow.WithCancel(ctx)

	if err := c.issue(ctx); err != nil {
		c.end(ctx, code.StatusFailed, err)
		return c.status, nil
	}
	for !c.final() && ctx.Err() == nil {
		deadline := c.expiresAt
		if wait := deadline.Sub(workflow.Now(ctx)); wait > 0 {
			_, err := workflow.AwaitWithTimeout(ctx, wait, func() bool {
				return c.final() || c.sendFailed || !c.expiresAt.Equal(deadline)
			})
			if err != nil {
				break // canceled
			}
		}
		switch {
		case c.final():
		case c.sendFailed:
			c.end(ctx, code.StatusFailed, nil)
		case c.issuing:
			// A resend is under way and will set a new expiry.
			_ = workflow.Await(ctx, func() bool { return !c.issuing })
		case !workflow.Now(ctx).Before(c.expiresAt):
			c.end(ctx, code.StatusExpired, nil)
		}
	}
	if ctx.Err() != nil {
		c.end(ctx, code.StatusCanceled, nil)
	}
	c.cancelSends()
	// Let running handlers answer their callers, and canceled sends record
	// themselves, before the workflow ends.
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	_ = workflow.Await(dctx, func() bool { return c.busy == 0 && workflow.AllHandlersFinished(dctx) })
	return c.status, nil
}

// register installs the query, the verify and resend updates and the
// code-reply signal.
func (c *challenge) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (CodeState, error) {
		st := CodeState{Status: c.status, Sends: c.sends, AttemptsLeft: c.attemptsLeft, ExpiresAt: c.expiresAt, LastError: c.lastError}
		if !c.final() && c.sends < c.opts.MaxSends && !c.lastSent.IsZero() {
			st.NextResendAt = c.lastSent.Add(c.opts.ResendInterval)
		}
		return st, nil
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateVerify,
		func(ctx workflow.Context, in CodeCheck) (CodeAnswer, error) {
			return c.check(ctx, in.checkInput(c.id))
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in CodeCheck) error {
			if !in.wellFormed() {
				return temporal.NewApplicationError("A code is 6 digits.", ErrTypeMalformedCode)
			}
			if c.final() {
				return temporal.NewApplicationError("This challenge has ended.", ErrTypeChallengeOver)
			}
			if c.sends == 0 {
				return temporal.NewApplicationError("No code has been sent yet.", ErrTypeNoCodeYet)
			}
			return nil
		}}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateResend,
		func(ctx workflow.Context) (ResendAnswer, error) {
			if err := c.issue(ctx); err != nil {
				return ResendAnswer{}, err
			}
			return ResendAnswer{Sends: c.sends, ExpiresAt: c.expiresAt, NextResendAt: c.lastSent.Add(c.opts.ResendInterval)}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context) error {
			switch {
			case c.final():
				return temporal.NewApplicationError("This challenge has ended.", ErrTypeChallengeOver)
			case c.sends >= c.opts.MaxSends:
				return temporal.NewApplicationError(
					fmt.Sprintf("No more codes can be sent for this verification: %d were sent.", c.sends), ErrTypeTooManySends)
			}
			next := c.lastSent.Add(c.opts.ResendInterval)
			if c.issuing || workflow.Now(ctx).Before(next) {
				wait := max(next.Sub(workflow.Now(ctx)), time.Second)
				secs := int((wait + time.Second - 1) / time.Second)
				return temporal.NewApplicationError(
					fmt.Sprintf("A new code can be sent %d seconds after the last one; try again in %d seconds.",
						int(c.opts.ResendInterval/time.Second), secs), ErrTypeTooSoon, secs)
			}
			return nil
		}}); err != nil {
		return err
	}
	replies := workflow.GetSignalChannel(ctx, SignalCodeReply)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r CodeReply
			if !replies.Receive(ctx, &r) {
				return
			}
			c.busy++
			c.answerReply(ctx, r)
			c.busy--
		}
	})
	return nil
}

// issue makes and sends the next code. The send runs on its own, so that a
// resend answers at once; a send that fails for good while it is the
// newest code ends the challenge as failed.
func (c *challenge) issue(ctx workflow.Context) error {
	c.issuing = true
	defer func() { c.issuing = false }()
	ctx = workflow.WithActivityOptions(ctx, codeActivityOptions())
	send := c.sends + 1
	var r activities.IssueCodeResult
	err := workflow.ExecuteActivity(ctx, ActivityIssueCode, activities.IssueCodeInput{
		ChallengeID: c.id, Send: send, TTL: c.opts.TTL,
	}).Get(ctx, &r)
	if err != nil {
		c.lastError = rootMessage(err)
		return temporal.NewNonRetryableApplicationError("The code could not be issued: "+c.lastError, errorType(err), nil)
	}
	now := workflow.Now(ctx)
	c.sends, c.lastSent, c.expiresAt, c.sendFailed, c.lastError = send, now, now.Add(c.opts.TTL), false, ""
	c.setStatus(ctx, CodeStatusWaiting)
	c.busy++
	workflow.Go(c.sendCtx, func(gctx workflow.Context) {
		defer func() { c.busy-- }()
		_, err := deliver(gctx, r.Message, DeliverOptions{GiveUpAfter: c.opts.TTL})
		if err != nil && gctx.Err() == nil {
			c.lastError = rootMessage(err)
			workflow.GetLogger(gctx).Warn("code not delivered", "challenge", c.id, "send", send, "error", c.lastError)
			if send == c.sends {
				c.sendFailed = true
			}
		}
	})
	return nil
}

// check checks one code: one attempt, counted in Postgres.
func (c *challenge) check(ctx workflow.Context, in activities.CheckCodeInput) (CodeAnswer, error) {
	c.busy++
	defer func() { c.busy-- }()
	ctx = workflow.WithActivityOptions(ctx, codeActivityOptions())
	var r activities.CheckCodeResult
	err := workflow.ExecuteActivity(ctx, ActivityCheckCode, in).Get(ctx, &r)
	if err != nil {
		return CodeAnswer{}, fmt.Errorf("check code: %w", err)
	}
	if r.Outcome != code.OutcomeClosed {
		c.attemptsLeft = r.AttemptsLeft
	}
	if r.Status != "" && r.Status != code.StatusPending {
		c.setStatus(ctx, r.Status)
		if r.Outcome != code.OutcomeValid {
			c.attemptsLeft = 0
		}
	}
	return CodeAnswer{Valid: r.Outcome == code.OutcomeValid, Status: c.status, AttemptsLeft: c.attemptsLeft}, nil
}

// answerReply checks a code texted back to the paging number and answers
// the sender.
func (c *challenge) answerReply(ctx workflow.Context, r CodeReply) {
	const alreadyVerified = "This number is already verified."
	var body string
	if c.final() {
		body = "There is no verification waiting for this number."
		if c.status == code.StatusVerified {
			body = alreadyVerified
		}
	} else if in, ok := r.checkInput(c.id); ok {
		ans, err := c.check(ctx, in)
		switch {
		case err != nil:
			body = "Sorry, that code could not be checked just now. Please try again in a minute."
		case ans.Valid:
			body = fmt.Sprintf("Thanks! This number is now verified: %s can reach you here.", c.opts.Brand)
		case ans.Status == code.StatusVerified:
			// Verified another way (the app, the CLI) while this text
			// was on its way.
			body = alreadyVerified
		case ans.Status == code.StatusLocked:
			body = "That code is not valid, and that was the last try. Ask for a new code."
		case ans.Status == code.StatusExpired:
			body = "That code has expired. Ask for a new one."
		case c.final():
			body = "There is no verification waiting for this number."
		case ans.AttemptsLeft == 1:
			body = "That code is not valid. You have 1 try left."
		default:
			body = fmt.Sprintf("That code is not valid. You have %d tries left.", ans.AttemptsLeft)
		}
	} else {
		return
	}
	c.replies++
	m := klaxon.Message{
		ID: c.id + "/reply/" + strconv.Itoa(c.replies), Medium: klaxon.SMS, To: r.From, Body: body,
		Priority: klaxon.Normal, Purpose: "verify-reply", Ref: c.id,
	}
	if r.From == "" {
		m.ToRef = senderRef(r.EventID)
	}
	if _, err := deliver(ctx, m, DeliverOptions{GiveUpAfter: 15 * time.Minute}); err != nil {
		workflow.GetLogger(ctx).Warn("code reply not delivered", "challenge", c.id, "error", rootMessage(err))
	}
}

// checkInput is the check activity's input for a texted code, and whether
// the reply is a code at all.
func (r CodeReply) checkInput(challengeID string) (activities.CheckCodeInput, bool) {
	if r.Code == "" {
		// The inbound workflow signals only texts that are codes.
		return activities.CheckCodeInput{ChallengeID: challengeID, EventID: r.EventID}, r.EventID != 0
	}
	typed, ok := code.Normalize(r.Code)
	return activities.CheckCodeInput{ChallengeID: challengeID, Code: typed}, ok
}

// senderRef is the reference of the person who sent inbound event id.
func senderRef(eventID int64) string { return "sender:" + strconv.FormatInt(eventID, 10) }

// end finishes the challenge in Postgres with status, or with the final
// status it had already reached there.
func (c *challenge) end(ctx workflow.Context, status string, cause error) {
	if cause != nil {
		c.lastError = rootMessage(cause)
		var ae *temporal.ApplicationError
		if errors.As(cause, &ae) && ae.Type() == activities.ErrTypeChallengeClosed {
			status = code.StatusCanceled
		}
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, finalizeOptions())
	final := status
	if err := workflow.ExecuteActivity(dctx, ActivityFinishChallenge, activities.FinishChallengeInput{
		ChallengeID: c.id, Status: status,
	}).Get(dctx, &final); err != nil {
		workflow.GetLogger(ctx).Error("finish challenge", "challenge", c.id, "error", err)
	}
	if final == "" || final == code.StatusPending {
		final = status
	}
	c.setStatus(dctx, final)
}
