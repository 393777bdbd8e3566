package matrix

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/pager"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// ViaMatrix is how an acknowledgement by reaction is recorded.
const ViaMatrix = "matrix"

// Acker acknowledges a page when a linked user reacts ✅ to its message,
// through the same pager service the API uses (the page's workflow cancels
// every pending notification before it answers).
type Acker struct {
	Store     *store.Store
	Temporal  client.Client
	TaskQueue string
}

// Ack is what a reaction did.
type Ack struct {
	// Handled is false for messages that are not a ✅ on a page.
	Handled bool
	// Linked is false when the reacting person is no Klaxon user: nothing
	// changed.
	Linked bool
	Result paging.ActionResult
	// By is the handle of who acknowledged.
	By string
}

// Handle acknowledges m's page when m is a ✅ on a page's message from a
// linked, active user; any other message is left for the bridge (Handled
// false).
func (a *Acker) Handle(ctx context.Context, m chat.Message) (Ack, error) {
	if m.Network != chat.Matrix || m.Reaction != chat.ReactionAck || m.PageID == 0 || m.Sender.Account == "" {
		return Ack{}, nil
	}
	u, err := a.Store.UserByMatrixID(ctx, m.Sender.Account)
	if errors.Is(err, klaxon.ErrNotFound) || (err == nil && !u.Active) {
		return Ack{Handled: true}, nil
	}
	if err != nil {
		return Ack{Handled: true}, fmt.Errorf("ack by reaction: %w", err)
	}
	res, err := pager.Apply(ctx, a.Temporal, a.Store, pager.Update{
		PageID: m.PageID, WorkflowID: workflows.PageWorkflowID(a.TaskQueue, m.PageID),
		Name: workflows.UpdateAck, Status: paging.StatusAcked,
		Action: paging.Action{By: u.Handle, Via: ViaMatrix},
	})
	if err != nil {
		return Ack{Handled: true, Linked: true}, fmt.Errorf("ack by reaction: %w", err)
	}
	return Ack{Handled: true, Linked: true, Result: res, By: u.Handle}, nil
}
