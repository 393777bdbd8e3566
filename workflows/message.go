package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
)

// MessageInput is one standalone message to deliver.
type MessageInput struct {
	Message     klaxon.Message
	GiveUpAfter time.Duration
}

// MessageResult is how the delivery ended.
type MessageResult struct {
	ProviderID string
	Status     string
}

// MessageState is what QueryState answers for a message workflow.
type MessageState struct {
	Status     string `json:"status"`
	ProviderID string `json:"provider_id,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Message delivers one message through the pipeline. It fails when the
// delivery fails for good, so the Temporal UI shows failed deliveries as
// failed workflows; its KlaxonStatus search attribute says why.
func Message(ctx workflow.Context, in MessageInput) (MessageResult, error) {
	st := &MessageState{Status: klaxon.StatusSending}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (MessageState, error) { return *st, nil }); err != nil {
		return MessageResult{}, fmt.Errorf("message: %w", err)
	}
	setStatus := func(s string) {
		st.Status = s
		_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet(s))
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SearchKind.ValueSet("message"), SearchRef.ValueSet(in.Message.ID), SearchStatus.ValueSet(st.Status))

	r, err := deliver(ctx, in.Message, DeliverOptions{
		GiveUpAfter: in.GiveUpAfter,
		OnRetry:     func() { setStatus("retrying") },
	})
	if err != nil {
		st.Error = rootMessage(err)
		switch errorType(err) {
		case "OptedOut":
			setStatus(klaxon.StatusSuppressed)
		case "Canceled":
			setStatus(klaxon.StatusCanceled)
		default:
			setStatus(klaxon.StatusFailed)
		}
		return MessageResult{Status: st.Status}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("message %s %s: %s", in.Message.ID, st.Status, st.Error), errorType(err), err)
	}
	st.ProviderID = r.ProviderID
	setStatus(klaxon.StatusSent)
	return MessageResult{ProviderID: r.ProviderID, Status: klaxon.StatusSent}, nil
}
