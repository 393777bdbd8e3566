package workflows

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon/activities"
)

// Rotations' Temporal surface: names (a persisted API: never rename one),
// ids, the start and the registration.

// WorkflowRotation announces a rotation's handoffs, one per rotation, with
// ID "rotation/NAME"; it continues as new after each handoff.
const WorkflowRotation = "Rotation"

// Rotations' activities.
const (
	ActivityPlanHandoff     = "PlanHandoff"
	ActivityHandoffMessages = "HandoffMessages"
)

// SignalRotationReplan tells a rotation's workflow that the rotation or its
// overrides changed, so it plans its next handoff again.
const SignalRotationReplan = "rotation-replan"

// RotationWorkflowID is the workflow id of a rotation's handoffs: one
// workflow per rotation, "rotation/<name>" for the deployment on the default
// task queue. Another deployment sharing the Temporal namespace (its own
// KLAXON_TASK_QUEUE, as tests do) may have a rotation of the same name, so
// it prefixes the id with its queue's name.
func RotationWorkflowID(taskQueue, rotation string) string {
	id := "rotation/" + rotation
	if taskQueue == "" || taskQueue == DefaultTaskQueue {
		return id
	}
	return taskQueue + "/" + id
}

// ReplanRotation signals the rotation's workflow to plan again, or starts
// it with in (a rotation's workflow ends only when the rotation is deleted,
// so a closed one may start again).
func (s Starter) ReplanRotation(ctx context.Context, replan RotationReplan, in RotationInput) error {
	id := RotationWorkflowID(s.TaskQueue, in.Rotation)
	_, err := s.Client.SignalWithStartWorkflow(ctx, id, SignalRotationReplan, replan, client.StartWorkflowOptions{
		ID:                    id,
		TaskQueue:             s.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(SearchKind.ValueSet("rotation"), SearchRef.ValueSet(in.Rotation)),
	}, WorkflowRotation, in)
	if err != nil {
		return fmt.Errorf("signal-start rotation workflow: %w", err)
	}
	return nil
}

// registerRotations registers rotations on r.
func registerRotations(r worker.Registry, a *activities.Rotations) {
	registerWorkflow(r, Rotation, WorkflowRotation)
	registerActivity(r, a.PlanHandoff, ActivityPlanHandoff)
	registerActivity(r, a.HandoffMessages, ActivityHandoffMessages)
}
