package workflows

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Starter starts Klaxon's workflows from outside a workflow — the gateway,
// the inbound dispatcher, and later the chat bridge — with the same ids,
// id policies and search attributes that workflows use when they start one
// another. Each feature's start functions sit beside its workflow; they
// all come here.
type Starter struct {
	Client    client.Client
	TaskQueue string
	// Brand names Klaxon in what the started workflows send.
	Brand string
}

// startSpec is how one kind of workflow is started: its id from the natural
// key, its id policies and its first search attributes, written once for
// the client start and the child start alike.
type startSpec struct {
	workflow string
	id       string
	// conflict applies to a workflow running with the same id; reuse to
	// a closed one.
	conflict enumspb.WorkflowIdConflictPolicy
	reuse    enumspb.WorkflowIdReusePolicy
	// eager starts the workflow on this process's worker when it has one,
	// so the first text leaves within milliseconds.
	eager bool
	attrs temporal.SearchAttributes
}

// options are the spec's client start options on taskQueue.
func (s startSpec) options(taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       s.id,
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: s.conflict,
		WorkflowIDReusePolicy:    s.reuse,
		EnableEagerStart:         s.eager,
		TypedSearchAttributes:    s.attrs,
	}
}

// start starts the spec's workflow with in.
func (s Starter) start(ctx context.Context, spec startSpec, in any) (client.WorkflowRun, error) {
	run, err := s.Client.ExecuteWorkflow(ctx, spec.options(s.TaskQueue), spec.workflow, in)
	if err != nil {
		if !temporal.IsWorkflowExecutionAlreadyStartedError(err) && s.started(ctx, spec.id) {
			// The answer was lost (a timeout after the server took the
			// start): the workflow runs, and saying otherwise would have
			// the caller undo its record or start it again.
			return s.Client.GetWorkflow(context.WithoutCancel(ctx), spec.id, ""), nil
		}
		return nil, fmt.Errorf("start %s workflow: %w", spec.workflow, err)
	}
	return run, nil
}

// startCheckTimeout bounds the look-up of a workflow whose start answered
// with an error.
const startCheckTimeout = 5 * time.Second

// started reports whether a workflow with id exists, on a context of its
// own (the caller's may be what timed out).
func (s Starter) started(ctx context.Context, id string) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startCheckTimeout)
	defer cancel()
	_, err := s.Client.DescribeWorkflowExecution(ctx, id, "")
	return err == nil
}

// startChild starts the spec's workflow from a workflow, to go on after
// the parent ends, once: a repeated start (a retried or replayed parent)
// finds it already started and reports nothing.
func startChild(ctx workflow.Context, spec startSpec, in any) error {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            spec.id,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: spec.reuse,
		TypedSearchAttributes: spec.attrs,
	})
	err := workflow.ExecuteChildWorkflow(cctx, spec.workflow, in).GetChildWorkflowExecution().Get(ctx, nil)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return nil
	}
	return err
}
