package workflows

import (
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
)

// The FYI surface: a persisted API, like every name in names.go.
const (
	// WorkflowPageFYI tells the subscribers of one page event; its ID is
	// FYIWorkflowID, so each event is told once.
	WorkflowPageFYI = "PageFYI"
	// ActivityPlanFYIs finds the subscriptions a page event matches.
	ActivityPlanFYIs = "PlanFYIs"
	// ActivityAnyFYIs asks whether any subscription could match a page
	// event, before a child is started to plan them.
	ActivityAnyFYIs = "AnyFYIs"
	// versionFYI marks page workflows that tell subscribers (1), and
	// those that first ask whether anyone subscribed, so that a page
	// nobody follows starts no FYI child for each of its events (2).
	versionFYI = "page-fyi"
)

// FYIWorkflowID is the id of the FYIs of one page event.
func FYIWorkflowID(taskQueue string, pageID int64, event string) string {
	id := "fyi/" + strconv.FormatInt(pageID, 10) + "/" + event
	if taskQueue == "" || taskQueue == DefaultTaskQueue {
		return id
	}
	return taskQueue + "/" + id
}

// PageFYIInput names a page event.
type PageFYIInput struct {
	PageID int64
	Event  string
	Brand  string
}

// PageFYIResult counts the FYIs sent.
type PageFYIResult struct {
	Planned, Sent int
}

// PageFYI sends each subscriber of a page event their FYI, through the one
// delivery pipeline at normal priority (opt-outs and the per-recipient
// limit apply). FYIs ask for no acknowledgement and are not part of the
// page's escalation: acknowledging the page does not cancel them.
func PageFYI(ctx workflow.Context, in PageFYIInput) (PageFYIResult, error) {
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SearchKind.ValueSet("fyi"), SearchPageID.ValueSet(strconv.FormatInt(in.PageID, 10)), SearchStatus.ValueSet("planning"))
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute, MaximumAttempts: 20},
	})
	var msgs []klaxon.Message
	if err := workflow.ExecuteActivity(actx, ActivityPlanFYIs, activities.FYIPlanInput(in)).Get(ctx, &msgs); err != nil {
		return PageFYIResult{}, err
	}
	res := PageFYIResult{Planned: len(msgs)}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet("sending"))
	done := 0
	for _, m := range msgs {
		workflow.Go(ctx, func(ctx workflow.Context) {
			if _, err := deliver(ctx, m, DeliverOptions{}); err == nil {
				res.Sent++
			}
			done++
		})
	}
	if err := workflow.Await(ctx, func() bool { return done == len(msgs) }); err != nil {
		return res, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet("sent"))
	return res, nil
}

// anyFYIs asks Postgres whether any subscription could match event. When
// it cannot be asked, the answer is yes: the child plans properly, and
// retries as long as it must.
func (p *pager) anyFYIs(ctx workflow.Context, event string) bool {
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 100 * time.Millisecond, MaximumAttempts: 3},
	})
	var any bool
	if err := workflow.ExecuteLocalActivity(lctx, ActivityAnyFYIs, event).Get(ctx, &any); err != nil {
		workflow.GetLogger(ctx).Warn("could not ask for subscriptions; planning FYIs", "page", p.in.PageID, "event", event, "error", err)
		return true
	}
	return any
}

// announce starts the FYIs of a page event as a child that outlives the
// page, and does not wait for them. Pages started before subscriptions
// existed replay without it.
func (p *pager) announce(ctx workflow.Context, event string) {
	v := workflow.GetVersion(ctx, versionFYI, workflow.DefaultVersion, 2)
	if v == workflow.DefaultVersion {
		return
	}
	if v >= 2 && !p.anyFYIs(ctx, event) {
		return
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            FYIWorkflowID(workflow.GetInfo(ctx).TaskQueueName, p.in.PageID, event),
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	f := workflow.ExecuteChildWorkflow(cctx, WorkflowPageFYI, PageFYIInput{PageID: p.in.PageID, Event: event, Brand: p.in.Brand})
	p.pending++
	workflow.Go(ctx, func(ctx workflow.Context) {
		defer func() { p.pending-- }()
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("fyis not started", "page", p.in.PageID, "event", event, "error", err)
		}
	})
}
