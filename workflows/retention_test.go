package workflows_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// The retention workflow purges, on a real database, what is older than
// the window; the schedule that runs it is made once, and making it again
// (every worker start) keeps it.
func TestRetention_PurgesOnAScheduleMadeOnce(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	e, _, err := db.Store.RecordInbound(ctx, store.InboundEvent{Kind: store.InboundSMS, DedupKey: "SMold", From: "+15555550001", To: "+15555550100", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.FinishInbound(ctx, e.ID, "polite-reply"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE inbound_events SET received_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	workflows.Register(env, workflows.Deps{Retention: &activities.Retention{Store: db.Store, Window: time.Hour}})
	env.ExecuteWorkflow(workflows.WorkflowRetention)
	var c activities.PurgeCounts
	if err := env.GetWorkflowResult(&c); err != nil || c.InboundEvents != 1 {
		t.Fatalf("purge = %+v, %v; want the old text", c, err)
	}
	if got, _ := db.Store.InboundEventByID(ctx, e.ID); got.Body != "" {
		t.Errorf("the old text is still there: %+v", got)
	}

	tc := testenv.TemporalClient(t)
	s := workflows.Starter{Client: tc, TaskQueue: testenv.TaskQueue(t)}
	for range 2 {
		if err := s.RetentionSchedule(ctx); err != nil {
			t.Fatal(err)
		}
	}
	h := tc.ScheduleClient().GetHandle(ctx, workflows.RetentionScheduleID(s.TaskQueue))
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if iv := d.Schedule.Spec.Intervals; len(iv) != 1 || iv[0].Every != workflows.RetentionEvery {
		t.Errorf("schedule intervals %+v", iv)
	}
	_ = h.Delete(ctx)
}
