package workflows

import (
	"context"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/paging"
)

// The alert-resolve surface: a persisted API, like every name in names.go.
const (
	// WorkflowAlertResolve resolves a monitor's page once its alerts have
	// stayed resolved for a quiet window; its ID is AlertResolveWorkflowID.
	WorkflowAlertResolve = "AlertResolve"
	// SignalAlertFired tells a pending AlertResolve that the alerts fired
	// again: the page stays open.
	SignalAlertFired = "alert-fired"
)

// AlertResolveWorkflowID is the id of the pending resolution of a page.
func AlertResolveWorkflowID(taskQueue string, pageID int64) string {
	id := "alert-resolve/" + strconv.FormatInt(pageID, 10)
	if taskQueue == "" || taskQueue == DefaultTaskQueue {
		return id
	}
	return taskQueue + "/" + id
}

// AlertResolve starts the pending resolution of a monitor's page, or finds
// it waiting; a resolution that has ended (the page resolved, or the alerts
// fired again) may start again.
func (s Starter) AlertResolve(ctx context.Context, in AlertResolveInput) error {
	_, err := s.start(ctx, startSpec{
		workflow: WorkflowAlertResolve, id: AlertResolveWorkflowID(s.TaskQueue, in.PageID),
		conflict: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		reuse:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		attrs:    AlertResolveSearchAttributes(in.PageID),
	}, in)
	return err
}

// AlertResolveSearchAttributes let maintainers find pending resolutions:
// KlaxonKind="alert-resolve" AND KlaxonPageID="3".
func AlertResolveSearchAttributes(pageID int64) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		SearchKind.ValueSet("alert-resolve"),
		SearchPageID.ValueSet(strconv.FormatInt(pageID, 10)),
		SearchStatus.ValueSet("waiting"),
	)
}

// AlertResolveInput names the page a monitor said is resolved.
type AlertResolveInput struct {
	PageID int64
	// Quiet is how long the alerts must stay resolved before the page is.
	Quiet time.Duration
	// By names the monitor ("alertmanager").
	By string
}

// AlertResolveResult says what became of the resolution.
type AlertResolveResult struct {
	// Resolved is false when the alerts fired again within the window.
	Resolved bool
	Status   string
}

// AlertResolve is the flapping guard of monitors' pages: a group that
// resolves and fires again within the quiet window keeps its one page open
// (no new page, nobody paged again), and a group that stays resolved has
// its page resolved when the window ends. A re-fire signals the workflow,
// which then ends without resolving.
func AlertResolve(ctx workflow.Context, in AlertResolveInput) (AlertResolveResult, error) {
	fired := workflow.GetSignalChannel(ctx, SignalAlertFired)
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	timer := workflow.NewTimer(timerCtx, in.Quiet)
	refired := false
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.AddReceive(fired, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		refired = true
	})
	sel.Select(ctx)
	cancelTimer()
	if refired {
		_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet("refired"))
		return AlertResolveResult{Status: paging.StatusOpen}, nil
	}
	actx := workflow.WithActivityOptions(ctx, pageUpdateOptions())
	var res paging.ActionResult
	err := workflow.ExecuteActivity(actx, ActivityPageUpdate, activities.UpdatePageInput{
		PageID: in.PageID, WorkflowID: PageWorkflowID(workflow.GetInfo(ctx).TaskQueueName, in.PageID),
		Update: UpdateResolve, Status: paging.StatusResolved,
		Action: paging.Action{By: in.By, Via: in.By},
	}).Get(ctx, &res)
	if err != nil {
		return AlertResolveResult{}, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet("resolved"))
	return AlertResolveResult{Resolved: res.Changed, Status: res.Status}, nil
}
