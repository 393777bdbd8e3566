package workflows

import (
	"context"
	"strconv"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/paging"
)

// Paging's Temporal surface: its names (a persisted API: never rename
// one), ids, search attributes, the one way a page's workflow is started
// (from the API, from a text, and later from the chat bridge), and its
// registration.

// WorkflowPage escalates one page until someone acknowledges it; its ID is
// "page/<id>".
const WorkflowPage = "Page"

// Paging's activities.
const (
	ActivityPagePolicy          = "PagePolicy"
	ActivityPageBeginStep       = "PageBeginStep"
	ActivityPageRecordEvent     = "PageRecordEvent"
	ActivityPageSetStatus       = "PageSetStatus"
	ActivityPageHangUpCalls     = "PageHangUpCalls"
	ActivityPageUpdate          = "PageUpdate"
	ActivityPageFindReplyTarget = "PageFindReplyTarget"
	ActivityPageRequest         = "PageRequest"
	ActivityPageClaimErrorReply = "PageClaimErrorReply"
	ActivityPageFindCall        = "PageFindCall"
)

// Paging's updates and signals.
const (
	// UpdateAck acknowledges a page and UpdateResolve resolves it; their
	// validators refuse what would change nothing.
	UpdateAck     = "ack"
	UpdateResolve = "resolve"
	// UpdateEscalate ends the wait of an open page's current step: the
	// next step (or the next round) pages its people now.
	UpdateEscalate = "escalate"
	// SignalPageDelivery carries a provider status of a page's message.
	SignalPageDelivery = "page-delivery"
)

// PageWorkflowID is the workflow id of a page: "page/<id>" for the
// deployment on the default task queue. Page ids come from one database's
// sequence, so another deployment sharing the Temporal namespace (its own
// KLAXON_TASK_QUEUE, as tests do), or a database restored from a backup,
// would reuse them: a deployment on another task queue prefixes its page
// workflow ids with the queue's name.
func PageWorkflowID(taskQueue string, pageID int64) string {
	id := "page/" + strconv.FormatInt(pageID, 10)
	if taskQueue == "" || taskQueue == DefaultTaskQueue {
		return id
	}
	return taskQueue + "/" + id
}

// PageSearchAttributes are the search attributes a page workflow starts
// with: `temporal workflow list --query 'KlaxonPageStatus="open"'` finds
// every page still waiting for someone.
func PageSearchAttributes(in PageInput) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		SearchKind.ValueSet("page"),
		SearchPageID.ValueSet(strconv.FormatInt(in.PageID, 10)),
		SearchPageStatus.ValueSet(paging.StatusOpen),
		SearchTarget.ValueSet(in.Target),
	)
}

// NewPageInput is the workflow input of the page pg, whose emails name
// brand: the one place it is built, whoever started the page.
func NewPageInput(pg paging.Page, brand string) PageInput {
	return PageInput{
		PageID: pg.ID, Target: pg.Target, Summary: pg.Summary, Details: pg.Details, Mode: pg.Mode,
		Urgency: pg.Urgency, EscalateAfterSeconds: pg.EscalateAfterSeconds, RequestedBy: pg.RequestedBy,
		Brand: brand,
	}
}

// pageStartSpec is how a page's workflow starts: once per page (a running one
// is found, a closed one is never started again), eagerly.
func pageStartSpec(taskQueue string, in PageInput) startSpec {
	return startSpec{
		workflow: WorkflowPage, id: PageWorkflowID(taskQueue, in.PageID),
		conflict: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		reuse:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		eager:    true,
		attrs:    PageSearchAttributes(in),
	}
}

// Page starts the workflow of the page pg, or finds it running.
func (s Starter) Page(ctx context.Context, pg paging.Page) error {
	in := NewPageInput(pg, s.Brand)
	_, err := s.start(ctx, pageStartSpec(s.TaskQueue, in), in)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return nil // its id is its record's: started before, and maybe done
	}
	return err
}

// registerPaging registers paging on r: pages, the resolution of a
// monitor's page, and the FYIs of page events.
func registerPaging(r worker.Registry, p *activities.Paging, subs *activities.Subscriptions) {
	registerWorkflow(r, Page, WorkflowPage)
	registerWorkflow(r, AlertResolve, WorkflowAlertResolve)
	registerWorkflow(r, PageFYI, WorkflowPageFYI)
	registerActivity(r, subs.PlanFYIs, ActivityPlanFYIs)
	registerActivity(r, subs.AnyFYIs, ActivityAnyFYIs)
	registerActivity(r, p.LoadPolicy, ActivityPagePolicy)
	registerActivity(r, p.BeginStep, ActivityPageBeginStep)
	registerActivity(r, p.RecordPageEvent, ActivityPageRecordEvent)
	registerActivity(r, p.SetPageStatus, ActivityPageSetStatus)
	registerActivity(r, p.HangUpCalls, ActivityPageHangUpCalls)
	registerActivity(r, p.UpdatePage, ActivityPageUpdate)
	registerActivity(r, p.FindReplyTarget, ActivityPageFindReplyTarget)
	registerActivity(r, p.RequestPage, ActivityPageRequest)
	registerActivity(r, p.ClaimErrorReply, ActivityPageClaimErrorReply)
	registerActivity(r, p.FindCallPage, ActivityPageFindCall)
}
