package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/activities"
)

// Retention's Temporal surface: one workflow, run by a schedule, that
// purges what is older than KLAXON_RETENTION.
const (
	WorkflowRetention = "Retention"
	ActivityPurge     = "RetentionPurge"
	// RetentionEvery is how often the schedule runs the purge.
	RetentionEvery = time.Hour
)

// RetentionScheduleID is the id of the retention schedule of a task queue
// (and of the workflows it starts).
func RetentionScheduleID(taskQueue string) string { return "retention/" + taskQueue }

// Retention runs one purge.
func Retention(ctx workflow.Context) (activities.PurgeCounts, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumInterval: 5 * time.Minute, MaximumAttempts: 10},
	})
	var c activities.PurgeCounts
	if err := workflow.ExecuteActivity(ctx, ActivityPurge).Get(ctx, &c); err != nil {
		return c, fmt.Errorf("retention: %w", err)
	}
	return c, nil
}

// RetentionSchedule makes sure the retention schedule exists: the purge
// every RetentionEvery, never two at once. An existing one is kept.
func (s Starter) RetentionSchedule(ctx context.Context) error {
	id := RetentionScheduleID(s.TaskQueue)
	_, err := s.Client.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      id,
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: RetentionEvery}}},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID: id, Workflow: WorkflowRetention, TaskQueue: s.TaskQueue,
			TypedSearchAttributes: temporal.NewSearchAttributes(SearchKind.ValueSet("retention")),
		},
		TriggerImmediately: true,
	})
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("retention schedule: %w", err)
	}
	return nil
}

// registerRetention registers the purge on r.
func registerRetention(r worker.Registry, a *activities.Retention) {
	registerWorkflow(r, Retention, WorkflowRetention)
	registerActivity(r, a.Purge, ActivityPurge)
}
