package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/code"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/sms"
	"github.com/klaxonhq/klaxon/store"
)

// ErrTypeEventNotFound is the non-retryable error type of an inbound event
// that is not in the database.
const ErrTypeEventNotFound = "EventNotFound"

// Inbound is the Postgres side of the inbound pipeline's workflow: it loads
// durable events, records their outcome, mirrors opt-outs and rate-limits
// automatic replies.
type Inbound struct {
	Store *store.Store
	// PagingNumber is KLAXON_FROM_NUMBER: texts to it are replies and
	// commands, and codes texted back.
	PagingNumber string
	// OwnNumbers are numbers of ours (paging, signup, diagnostics): a text
	// "from" one of them never gets an automatic reply.
	OwnNumbers []string
	// Brand names Klaxon in the replies.
	Brand  string
	Logger *slog.Logger
}

// LoadInboundResult is an event and what the workflow needs to route it.
type LoadInboundResult struct {
	Event store.InboundEvent
	// Processed reports that the event was handled already.
	Processed bool
	// Before is the dedup key of an earlier event of the same sender that
	// is not processed yet: this one waits for its turn. Empty when it is
	// this event's turn.
	Before string
	// ToPaging reports that the event reached the paging number.
	ToPaging bool
	// Owner is who owns the number the text reached; the workflow routes
	// the text to it. Empty in histories recorded before owners existed.
	Owner NumberOwner
	// FromOwnNumber reports that the sender is one of our own numbers.
	FromOwnNumber bool
	// Brand names Klaxon in replies.
	Brand string
	// Keyword is the opt-out or opt-in keyword the text is, if any; OptIn
	// says which.
	Keyword string `json:",omitempty"`
	OptIn   bool   `json:",omitempty"`
	// Code reports that the text is a verification code.
	Code bool `json:",omitempty"`
}

// NumberOwner is who owns one of our numbers: the feature a text to it
// goes to.
type NumberOwner string

// The owners of our numbers. A new one (the chat bridge) is one more
// constant, one more case in ownerOf and one more route in the workflow.
const (
	// OwnerPaging is KLAXON_FROM_NUMBER: replies to pages, commands and
	// codes texted back.
	OwnerPaging NumberOwner = "paging"
	// OwnerChannel is an SMS channel's number, the signup and diagnostics
	// channels' included.
	OwnerChannel NumberOwner = "channel"
	// OwnerNobody is a number of ours that belongs to nothing (a pool
	// number not yet given to a channel, a number released).
	OwnerNobody NumberOwner = "nobody"
)

// ownerOf finds who owns our number to.
func (a *Inbound) ownerOf(ctx context.Context, to string) (NumberOwner, error) {
	if a.PagingNumber != "" && to == a.PagingNumber {
		return OwnerPaging, nil
	}
	_, err := a.Store.ChannelByPhone(ctx, to)
	switch {
	case err == nil:
		return OwnerChannel, nil
	case errors.Is(err, klaxon.ErrNotFound):
		return OwnerNobody, nil
	default:
		return "", fmt.Errorf("owner of %s: %w", redact.Number(to), err)
	}
}

// LoadInbound loads an inbound event, whether it is its turn, and who owns
// the number it reached.
func (a *Inbound) LoadInbound(ctx context.Context, eventID int64) (LoadInboundResult, error) {
	e, before, err := a.Store.BeginInbound(ctx, eventID)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return LoadInboundResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("inbound event %d does not exist", eventID), ErrTypeEventNotFound, nil)
	}
	if err != nil {
		return LoadInboundResult{}, fmt.Errorf("load inbound: %w", err)
	}
	owner, err := a.ownerOf(ctx, e.To)
	if err != nil {
		return LoadInboundResult{}, fmt.Errorf("load inbound: %w", err)
	}
	res := LoadInboundResult{
		Processed:     e.ProcessedAt != nil,
		Before:        before.DedupKey,
		ToPaging:      owner == OwnerPaging,
		Owner:         owner,
		FromOwnNumber: slices.Contains(a.OwnNumbers, e.From),
		Brand:         a.Brand,
	}
	res.Keyword, res.OptIn, _ = sms.OptKeyword(e.Body)
	_, res.Code = code.Normalize(e.Body)
	res.Event = withheld(e, owner, res)
	return res, nil
}

// withheld is e as the workflow gets it (the claim check): without the
// sender's number, which activities load by the event's id, and without
// the words, except those of a text to the paging number that is neither
// a keyword nor a code — a page's reply or "get HANDLE now: MESSAGE",
// whose words become a page's readable summary. Channel and hotline texts
// are read at the edge, by the channel activities.
func withheld(e store.InboundEvent, owner NumberOwner, r LoadInboundResult) store.InboundEvent {
	e.From = ""
	if owner != OwnerPaging || r.Keyword != "" || r.Code {
		e.Body = ""
	}
	return e
}

// sender is the number that sent inbound event id: from, when a history
// recorded before references existed named it, else loaded.
func sender(ctx context.Context, s *store.Store, from string, eventID int64) (string, error) {
	if from != "" {
		return from, nil
	}
	n, err := s.Resolve(ctx, "sender:"+strconv.FormatInt(eventID, 10))
	if err != nil {
		return "", fmt.Errorf("sender of event %d: %w", eventID, err)
	}
	return n, nil
}

// FinishInboundInput records how an event was handled.
type FinishInboundInput struct {
	EventID int64
	Outcome string
}

// FinishInbound marks an event processed and returns the dedup key of the
// next unprocessed event of the same sender ("" when none), whose workflow
// may be waiting for its turn.
func (a *Inbound) FinishInbound(ctx context.Context, in FinishInboundInput) (string, error) {
	next, err := a.Store.FinishInbound(ctx, in.EventID, in.Outcome)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return "", temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("inbound event %d does not exist", in.EventID), ErrTypeEventNotFound, nil)
	}
	if err != nil {
		return "", fmt.Errorf("finish inbound: %w", err)
	}
	return next.DedupKey, nil
}

// OptOutInput mirrors an opt-out keyword (or, with OptIn, an opt-in one)
// texted in event EventID.
type OptOutInput struct {
	EventID int64 `json:",omitempty"`
	// Number is the sender, in histories recorded before references.
	Number string `json:",omitempty"`
	// Sender is our number the keyword was texted to: opt-outs are per pair.
	Sender  string
	Keyword string
	OptIn   bool
}

// MirrorOptOut records that a number texted STOP (or START): nothing but
// the confirmation goes to an opted-out number.
func (a *Inbound) MirrorOptOut(ctx context.Context, in OptOutInput) error {
	var err error
	if in.Number, err = sender(ctx, a.Store, in.Number, in.EventID); err != nil {
		return fmt.Errorf("mirror opt-out: %w", err)
	}
	if in.OptIn {
		err = a.Store.OptIn(ctx, in.Number, in.Sender)
	} else {
		err = a.Store.OptOut(ctx, in.Number, in.Sender, in.Keyword)
	}
	if err != nil {
		return fmt.Errorf("mirror opt-out: %w", err)
	}
	a.Logger.InfoContext(ctx, "opt-out mirrored", "number", redact.Number(in.Number), "keyword", in.Keyword, "opt_in", in.OptIn)
	return nil
}

// ClaimReplyInput asks whether an automatic reply may go from our number To
// to the sender of event EventID (From, in histories recorded before
// references) now.
type ClaimReplyInput struct {
	EventID int64  `json:",omitempty"`
	From    string `json:",omitempty"`
	To      string
	Every   time.Duration
}

// ClaimReply reports whether an automatic reply may be sent, recording it:
// at most one per sender and number every Every.
func (a *Inbound) ClaimReply(ctx context.Context, in ClaimReplyInput) (bool, error) {
	from, err := sender(ctx, a.Store, in.From, in.EventID)
	if err != nil {
		return false, fmt.Errorf("claim reply: %w", err)
	}
	ok, err := a.Store.ClaimReply(ctx, from, in.To, in.Every)
	if err != nil {
		return false, fmt.Errorf("claim reply: %w", err)
	}
	return ok, nil
}
