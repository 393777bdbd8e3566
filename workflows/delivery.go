package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
)

// DeliverOptions tunes one delivery.
type DeliverOptions struct {
	// GiveUpAfter bounds all retries of the delivery; after it the message
	// is marked failed. Zero means an hour.
	GiveUpAfter time.Duration
	// OnRetry, if set, runs when the first attempt failed and the delivery
	// moves to the retrying lane (callers update their search attributes).
	OnRetry func()
}

// firstAttemptOptions are the options of the first, local attempt: short,
// and never retried in place — a failure falls through to the regular
// activity, whose retries are durable.
func firstAttemptOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
	}
}

// deliveryRetryPolicy is the gradual backoff of every delivery, written once:
// 1 s, 2 s, 4 s ... up to 5 minutes between tries. Permanent failures are
// non-retryable application errors and stop it at once.
func deliveryRetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
	}
}

// deliveryOptions are the options of the retrying lane.
func deliveryOptions(m klaxon.Message, o DeliverOptions) workflow.ActivityOptions {
	giveUp := o.GiveUpAfter
	if giveUp <= 0 {
		giveUp = time.Hour
	}
	// A broadcast may queue a long time for its number's rate limit.
	startToClose := 2 * time.Minute
	if m.Priority == klaxon.Bulk {
		startToClose = 3 * time.Hour
	}
	return workflow.ActivityOptions{
		ScheduleToCloseTimeout: giveUp,
		StartToCloseTimeout:    startToClose,
		// Four missed heartbeats (activities.HeartbeatEvery) mean the
		// worker died: retry elsewhere within seconds, not minutes.
		HeartbeatTimeout: 8 * time.Second,
		RetryPolicy:      deliveryRetryPolicy(),
	}
}

// finalizeOptions are for bookkeeping activities that must run even after
// the workflow was canceled.
func finalizeOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	}
}

// deliver is the one delivery path every outbound message of every workflow
// takes: a fast local first attempt, then durable retries with gradual
// backoff, then the failure recorded with its reason. Canceling ctx (a page
// acknowledged) stops the delivery at whatever point it has reached,
// including while it waits for the rate limit, and records it as canceled.
func deliver(ctx workflow.Context, m klaxon.Message, o DeliverOptions) (klaxon.Receipt, error) {
	var r klaxon.Receipt
	lctx := workflow.WithLocalActivityOptions(ctx, firstAttemptOptions())
	err := workflow.ExecuteLocalActivity(lctx, ActivitySendFirst, m).Get(ctx, &r)
	if err == nil {
		return r, nil
	}
	if !isPermanent(err) && ctx.Err() == nil {
		if o.OnRetry != nil {
			o.OnRetry()
		}
		actx := workflow.WithActivityOptions(ctx, deliveryOptions(m, o))
		err = workflow.ExecuteActivity(actx, ActivitySend, m).Get(ctx, &r)
		if err == nil {
			return r, nil
		}
	}
	in := activities.FinalizeInput{ID: m.ID, Status: klaxon.StatusFailed, Kind: errorType(err), Reason: rootMessage(err)}
	switch {
	case ctx.Err() != nil || temporal.IsCanceledError(err):
		in.Status, in.Kind, in.Reason = klaxon.StatusCanceled, "Canceled", "no longer needed"
	case !isPermanent(err):
		// The retry policy ran out of time: Temporal returns the last
		// transient failure, which is the reason worth recording.
		if in.Kind != "GaveUp" {
			in.Kind, in.Reason = "GaveUp", "gave up retrying; last error: "+in.Reason
		}
	case in.Kind == "OptedOut":
		in.Status = klaxon.StatusSuppressed
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	dctx = workflow.WithActivityOptions(dctx, finalizeOptions())
	if ferr := workflow.ExecuteActivity(dctx, ActivityFinalize, in).Get(dctx, nil); ferr != nil {
		workflow.GetLogger(ctx).Error("finalize delivery", "message", m.ID, "error", ferr)
	}
	return r, err
}

// isPermanent reports whether err is a non-retryable application error.
func isPermanent(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.NonRetryable()
}

// isExpected reports whether err is an activity's expected outcome (a
// benign application error: a canceled send, a refused request), to be
// logged below ERROR.
func isExpected(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Category() == temporal.ApplicationErrorCategoryBenign
}

// errorType returns the application error type of a failure, "GaveUp" when
// the retry policy's time ran out, or "Canceled".
func errorType(err error) string {
	var te *temporal.TimeoutError
	var ae *temporal.ApplicationError
	switch {
	case errors.As(err, &te):
		return "GaveUp"
	case temporal.IsCanceledError(err):
		return "Canceled"
	case errors.As(err, &ae):
		return ae.Type()
	default:
		return "Unknown"
	}
}

// rootMessage describes a failure for the audit log.
func rootMessage(err error) string {
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		if last := errors.Unwrap(te); last != nil {
			return "gave up retrying; last error: " + rootMessage(last)
		}
		return "gave up retrying"
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Message()
	}
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(err) {
		err = u
	}
	return err.Error()
}
