package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/directory"
)

// DirectorySyncInput starts one synchronisation with the directory.
type DirectorySyncInput struct {
	// By is who asked: "schedule" or "api".
	By string
}

// DirectorySyncResult is what a synchronisation changed. It names people
// by handle only; their numbers and addresses stay in Postgres.
type DirectorySyncResult struct {
	Report directory.Report
}

// DirectorySync synchronises Klaxon's users with the directory once: the
// schedule runs it every KLAXON_LDAP_SYNC_INTERVAL, and POST
// /api/v1/directory/sync runs it now. A directory server that is down is
// tried three times in about ten seconds; a refused bind is not retried.
func DirectorySync(ctx workflow.Context, in DirectorySyncInput) (DirectorySyncResult, error) {
	ctx = workflow.WithActivityOptions(ctx, directorySyncOptions())
	var r directory.Report
	err := workflow.ExecuteActivity(ctx, ActivityDirectorySync, activities.DirectorySyncInput{By: in.By}).Get(ctx, &r)
	return DirectorySyncResult{Report: r}, err
}

// directorySyncOptions bound one synchronisation: minutes for a large
// directory, and a few quick retries so that whoever waits for the answer
// hears of a server that is down within seconds; the schedule tries again
// at its next run.
func directorySyncOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			MaximumAttempts:    3,
		},
	}
}
