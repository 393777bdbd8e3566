package workflows

import (
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

// TestPageReplay_RecordedHistories replays page histories recorded from
// real runs (klaxon's harness: Postgres, the Temporal dev server, the phone
// simulator) against today's Page workflow. A change that would break pages
// already escalating fails here, and must be guarded with
// workflow.GetVersion.
func TestPageReplay_RecordedHistories(t *testing.T) {
	cases := []struct{ name, file string }{
		// Text, call, keypress (ack through the gather webhook), delivery
		// statuses, resolution by a texted "1c".
		{"acked by keypress, resolved by text", "testdata/page_keypress_history.json"},
		// A policy of two steps, repeated; a busy call moving on at once;
		// ack by a texted "1a" and resolution through the API.
		{"policy steps, acked by text, resolved by API", "testdata/page_policy_history.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Page, workflowOpts(WorkflowPage))
			if err := r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), c.file); err != nil {
				t.Fatalf("replay %s: %v", c.file, err)
			}
		})
	}
}
