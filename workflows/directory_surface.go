package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon/activities"
)

// The directory's Temporal surface: names (a persisted API: never rename
// one), ids, the schedule, the start and the registration.

// WorkflowDirectorySync synchronises with the directory once.
const WorkflowDirectorySync = "DirectorySync"

// ActivityDirectorySync is the one synchronisation.
const ActivityDirectorySync = "SyncDirectory"

// directoryKind is the KlaxonKind of synchronisations.
const directoryKind = "directory-sync"

// DirectoryScheduleID is the id of the schedule that synchronises every
// KLAXON_LDAP_SYNC_INTERVAL: "directory-sync" on the default task queue,
// prefixed with another deployment's queue.
func DirectoryScheduleID(taskQueue string) string {
	return queuePrefixed(taskQueue, "directory-sync")
}

// DirectorySyncWorkflowID is the workflow id of a synchronisation asked
// for now: one at a time, and a second asker joins the one running.
func DirectorySyncWorkflowID(taskQueue string) string {
	return queuePrefixed(taskQueue, "directory-sync/now")
}

func queuePrefixed(taskQueue, id string) string {
	if taskQueue == "" || taskQueue == DefaultTaskQueue {
		return id
	}
	return taskQueue + "/" + id
}

// SyncDirectory starts a synchronisation now, or joins the one already
// asked for; the run's Get waits for its DirectorySyncResult.
func (s Starter) SyncDirectory(ctx context.Context) (client.WorkflowRun, error) {
	return s.start(ctx, startSpec{
		workflow: WorkflowDirectorySync,
		id:       DirectorySyncWorkflowID(s.TaskQueue),
		conflict: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		reuse:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		attrs:    temporal.NewSearchAttributes(SearchKind.ValueSet(directoryKind)),
	}, DirectorySyncInput{By: "api"})
}

// EnsureDirectorySchedule creates the schedule that synchronises every
// interval, or brings an existing one to that interval. A run still going
// when the next is due makes that one skip.
func EnsureDirectorySchedule(ctx context.Context, c client.Client, taskQueue string, interval time.Duration) error {
	id := DirectoryScheduleID(taskQueue)
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: interval}}}
	action := &client.ScheduleWorkflowAction{
		ID:                    id,
		Workflow:              WorkflowDirectorySync,
		Args:                  []any{DirectorySyncInput{By: "schedule"}},
		TaskQueue:             taskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(SearchKind.ValueSet(directoryKind)),
	}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		// The first synchronisation runs at once, not an interval later.
		TriggerImmediately: true,
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		h := c.ScheduleClient().GetHandle(ctx, id)
		err = h.Update(ctx, client.ScheduleUpdateOptions{
			DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				s := in.Description.Schedule
				s.Spec = &spec
				s.Action = action
				if s.Policy == nil {
					s.Policy = &client.SchedulePolicies{}
				}
				s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
				return &client.ScheduleUpdate{Schedule: &s}, nil
			},
		})
	}
	if err != nil {
		return fmt.Errorf("directory schedule: %w", err)
	}
	return nil
}

// DeleteDirectorySchedule removes the schedule, if there is one: the
// directory is no longer configured.
func DeleteDirectorySchedule(ctx context.Context, c client.Client, taskQueue string) error {
	err := c.ScheduleClient().GetHandle(ctx, DirectoryScheduleID(taskQueue)).Delete(ctx)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete directory schedule: %w", err)
	}
	return nil
}

// registerDirectory registers the directory's synchronisation on r.
func registerDirectory(r worker.Registry, a *activities.Directory) {
	registerWorkflow(r, DirectorySync, WorkflowDirectorySync)
	registerActivity(r, a.SyncDirectory, ActivityDirectorySync)
}
