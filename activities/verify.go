package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/code"
	"github.com/klaxonhq/klaxon/store"
)

// ErrTypeChallengeClosed is the non-retryable error type of issuing a code
// for a challenge that has ended (or does not exist).
const ErrTypeChallengeClosed = "ChallengeClosed"

// Codes issues and checks verification and login codes. The code itself
// exists only in the message that carries it; Postgres holds its salted
// hash, and every check happens there in one transaction.
type Codes struct {
	Store *store.Store
	// Peppers key the codes' hashes (KLAXON_CODE_PEPPER).
	Peppers code.Peppers
	// Brand names Klaxon in the texts.
	Brand  string
	Logger *slog.Logger
}

// IssueCodeInput asks for a challenge's send-th code.
type IssueCodeInput struct {
	ChallengeID string
	Send        int
	TTL         time.Duration
}

// IssueCodeResult is the envelope of the message that carries the new
// code (its record in Postgres is the only place the code exists in clear)
// and when the code expires.
type IssueCodeResult struct {
	Message   klaxon.Message
	ExpiresAt time.Time
}

// IssueCode makes a new code for a challenge, replacing the previous one,
// and returns the message to send it in. A challenge that has ended is a
// non-retryable ChallengeClosed error.
func (c *Codes) IssueCode(ctx context.Context, in IssueCodeInput) (IssueCodeResult, error) {
	secret, salt, hash := c.Peppers.New()
	ch, err := c.Store.SetCode(ctx, in.ChallengeID, in.Send, salt, hash, in.TTL)
	if errors.Is(err, store.ErrChallengeClosed) || klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return IssueCodeResult{}, temporal.NewNonRetryableApplicationError("the challenge has ended", ErrTypeChallengeClosed, nil)
	}
	if err != nil {
		return IssueCodeResult{}, fmt.Errorf("issue code: %w", err)
	}
	// The code exists in clear only in its message's record: the workflow
	// gets the envelope.
	m := CodeMessage(c.Brand, ch, secret, in.Send, in.TTL)
	if err := c.Store.QueueMessage(ctx, m); err != nil {
		return IssueCodeResult{}, fmt.Errorf("issue code: %w", err)
	}
	res := IssueCodeResult{Message: m.Envelope()}
	if ch.ExpiresAt != nil {
		res.ExpiresAt = *ch.ExpiresAt
	}
	return res, nil
}

// CodeMessage is the message that carries a code, in the challenge's own
// medium: a text, a call that reads the digits slowly (the call reads its
// message twice), or an email.
func CodeMessage(brand string, ch store.Challenge, code string, send int, ttl time.Duration) klaxon.Message {
	what := "code"
	if ch.Purpose == store.PurposeOTP {
		what = "login code"
	}
	minutes := int((ttl + 59*time.Second) / time.Minute)
	life := fmt.Sprintf("%d minutes", minutes)
	if minutes == 1 {
		life = "1 minute"
	}
	m := klaxon.Message{
		ID:       ch.ID + "/code/" + strconv.Itoa(send),
		Medium:   ch.Medium,
		To:       ch.Address,
		Priority: klaxon.Urgent,
		Purpose:  ch.Purpose,
		Ref:      ch.ID,
	}
	switch {
	case ch.Medium == klaxon.Voice:
		m.Body = fmt.Sprintf("Your %s %s is %s.", brand, what, strings.Join(strings.Split(code, ""), ", "))
	case ch.Medium.HasSubject():
		m.Subject = fmt.Sprintf("Your %s %s", brand, what)
		m.ThreadKey = ch.ID
		if ch.Purpose == store.PurposeOTP {
			m.Body = fmt.Sprintf("Your %s login code is %s.\n\nIt expires in %s. Never share it with anyone.\n", brand, code, life)
		} else {
			m.Body = fmt.Sprintf("Your %s code is %s.\n\nEnter it to verify this email address. It expires in %s.\n"+
				"If you did not ask for it, you can ignore this email.\n", brand, code, life)
		}
	case ch.Purpose == store.PurposeOTP:
		m.Body = fmt.Sprintf("Your %s login code is %s. It expires in %s. Never share it with anyone.", brand, code, life)
	default:
		m.Body = fmt.Sprintf("Your %s code is %s. Reply with it, or enter it where you were asked, within %s.", brand, code, life)
	}
	return m
}

// CheckCodeInput is one code to check against a challenge, by reference:
// Ref is the claim of a code typed into the API (taken by the check),
// EventID the inbound text that carried it. Code is the code itself, in
// histories recorded before references existed.
type CheckCodeInput struct {
	ChallengeID string
	Code        string `json:",omitempty"`
	Ref         string `json:",omitempty"`
	EventID     int64  `json:",omitempty"`
}

// ErrTypeMalformedCode is the non-retryable error type of a check whose
// code is gone or is no code.
const ErrTypeMalformedCode = "MalformedCode"

// typedCode loads the code a check names.
func (c *Codes) typedCode(ctx context.Context, in CheckCodeInput) (string, error) {
	raw := in.Code
	var err error
	switch {
	case in.Ref != "":
		raw, err = c.Store.TakeClaim(ctx, in.Ref)
	case in.EventID != 0:
		raw, err = c.Store.Resolve(ctx, "text:"+strconv.FormatInt(in.EventID, 10))
	}
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound || errors.Is(err, store.ErrBadRef) {
		return "", temporal.NewNonRetryableApplicationError("the code to check is gone", ErrTypeMalformedCode, nil)
	}
	if err != nil {
		return "", fmt.Errorf("check code: %w", err)
	}
	typed, ok := code.Normalize(raw)
	if !ok {
		return "", temporal.NewNonRetryableApplicationError("the text to check is not a code", ErrTypeMalformedCode, nil)
	}
	return typed, nil
}

// CheckCodeResult is the outcome of a check (store.CodeValid, ...), the
// challenge's status after it, and how many tries are left.
type CheckCodeResult struct {
	Outcome      string
	Status       string
	AttemptsLeft int
}

// CheckCode checks a code against a challenge: one attempt counted, in
// constant time, in one transaction that also verifies the contact method
// when the code is right.
func (c *Codes) CheckCode(ctx context.Context, in CheckCodeInput) (CheckCodeResult, error) {
	typed, err := c.typedCode(ctx, in)
	if err != nil {
		return CheckCodeResult{}, err
	}
	r, err := c.Store.CheckCode(ctx, in.ChallengeID, c.Peppers.Matcher(typed))
	if err != nil {
		return CheckCodeResult{}, fmt.Errorf("check code: %w", err)
	}
	return CheckCodeResult{Outcome: r.Outcome, Status: r.Status, AttemptsLeft: max(r.MaxAttempts-r.Attempts, 0)}, nil
}

// FinishChallengeInput ends a challenge with a status (expired, failed,
// canceled).
type FinishChallengeInput struct {
	ChallengeID string
	Status      string
}

// FinishChallenge ends a pending challenge and returns its final status,
// which is an earlier one if it had ended already.
func (c *Codes) FinishChallenge(ctx context.Context, in FinishChallengeInput) (string, error) {
	st, err := c.Store.FinishChallenge(ctx, in.ChallengeID, in.Status)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return store.ChallengeCanceled, nil
	}
	if err != nil {
		return "", fmt.Errorf("finish challenge: %w", err)
	}
	return st, nil
}

// CodeReplyQuery is a code texted to the paging number, and who texted it:
// EventID names the text; Number and Code are the sender and the code in
// histories recorded before references existed.
type CodeReplyQuery struct {
	Number  string `json:",omitempty"`
	Code    string `json:",omitempty"`
	EventID int64  `json:",omitempty"`
}

// FindCodeReply returns the id of the verification under way that a code
// texted from a number answers — the one whose code it is, when the number
// has several (its SMS and voice methods) — or "" when there is none.
func (c *Codes) FindCodeReply(ctx context.Context, q CodeReplyQuery) (string, error) {
	if q.EventID != 0 {
		ev := strconv.FormatInt(q.EventID, 10)
		number, err := c.Store.Resolve(ctx, "sender:"+ev)
		if err != nil {
			return "", fmt.Errorf("find code reply: %w", err)
		}
		text, err := c.Store.Resolve(ctx, "text:"+ev)
		if err != nil {
			return "", fmt.Errorf("find code reply: %w", err)
		}
		typed, ok := code.Normalize(text)
		if !ok {
			return "", nil
		}
		q.Number, q.Code = number, typed
	}
	ch, err := c.Store.PendingCodeReply(ctx, q.Number, c.Peppers.Matcher(q.Code))
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find code reply: %w", err)
	}
	return ch.ID, nil
}
