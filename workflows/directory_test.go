package workflows

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/directory"
)

// TestDirectorySync_RetriesADownServerNotARefusedBind: a directory server
// that is down is tried three times, then the workflow fails with its
// sentence; a refused bind fails at once.
func TestDirectorySync_RetriesADownServerNotARefusedBind(t *testing.T) {
	cases := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"server down", temporal.NewApplicationError("The directory server ldap://x cannot be reached: refused.", directory.KindUnreachable), 3},
		{"bind refused", temporal.NewNonRetryableApplicationError("The directory server ldap://x refused the bind.", directory.KindBind, nil), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			Register(env, Deps{})
			calls := 0
			Override(env, func(context.Context, activities.DirectorySyncInput) (directory.Report, error) {
				calls++
				return directory.Report{}, c.err
			}, ActivityDirectorySync)
			env.ExecuteWorkflow(WorkflowDirectorySync, DirectorySyncInput{By: "schedule"})
			err := env.GetWorkflowError()
			var ae *temporal.ApplicationError
			var want *temporal.ApplicationError
			_ = errors.As(c.err, &want)
			if !errors.As(err, &ae) || ae.Message() != want.Message() || ae.Type() != want.Type() {
				t.Fatalf("workflow error %v, want %v", err, c.err)
			}
			if calls != c.wantCalls {
				t.Errorf("%d attempts, want %d", calls, c.wantCalls)
			}
		})
	}

	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	Register(env, Deps{})
	Override(env, func(context.Context, activities.DirectorySyncInput) (directory.Report, error) {
		return directory.Report{Entries: 2, Counts: directory.Counts{Unchanged: 2}}, nil
	}, ActivityDirectorySync)
	env.ExecuteWorkflow(WorkflowDirectorySync, DirectorySyncInput{By: "api"})
	var res DirectorySyncResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Report.Counts.Unchanged != 2 {
		t.Fatalf("result %+v, %v", res, err)
	}
}
