// Package pager is the paging service the gateway and the activities
// share: it acknowledges and resolves pages through their workflows, with
// the page's record in Postgres as the answer when the workflow refuses or
// is gone.
package pager

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// Update is an acknowledgement or resolution for a page's workflow.
type Update struct {
	PageID     int64
	WorkflowID string
	// Name is the update's name (ack or resolve).
	Name   string
	Action paging.Action
	// Status is the page status the update leads to.
	Status string
}

// Apply acknowledges or resolves a page through its workflow (a
// Temporal update, validated there), and answers from the page's record
// when the workflow refuses (already acknowledged or resolved) or has
// ended. A page whose workflow is gone while its record is still live is
// changed in the record alone, so an acknowledgement is never lost.
func Apply(ctx context.Context, c client.Client, st *store.Store, in Update) (paging.ActionResult, error) {
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   in.WorkflowID,
		UpdateName:   in.Name,
		Args:         []any{in.Action},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res paging.ActionResult
	if err == nil {
		err = h.Get(ctx, &res)
		if err == nil {
			return res, nil
		}
	}
	var ae *temporal.ApplicationError
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &ae) && (ae.Type() == paging.ErrTypeAcked || ae.Type() == paging.ErrTypeResolved):
		if ae.HasDetails() && ae.Details(&res) == nil && res.Status != "" {
			return res, nil
		}
		pg, err := st.GetPage(ctx, in.PageID)
		if err != nil {
			return res, fmt.Errorf("apply page action: %w", err)
		}
		return resultOf(pg, false), nil
	case errors.As(err, &nf):
		pg, err := st.GetPage(ctx, in.PageID)
		if err != nil {
			return res, fmt.Errorf("apply page action: %w", err)
		}
		if pg.Status == paging.StatusResolved || pg.Status == in.Status {
			return resultOf(pg, false), nil
		}
		var t store.PageTransition
		if in.Status == paging.StatusAcked {
			t, err = st.AckPage(ctx, in.PageID, in.Action.By, in.Action.Via)
		} else {
			t, err = st.ResolvePage(ctx, in.PageID, in.Action.By, in.Action.Via)
		}
		if err != nil {
			return res, fmt.Errorf("apply page action: %w", err)
		}
		return resultOf(t.Page, t.Changed), nil
	default:
		return res, fmt.Errorf("apply page action: %w", err)
	}
}

func resultOf(pg paging.Page, changed bool) paging.ActionResult {
	return paging.ActionResult{PageID: pg.ID, Status: pg.Status, By: pg.SettledBy(), Changed: changed}
}
