package workflows

import (
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

// TestReplay_RecordedHistories replays histories recorded from real runs
// against today's workflow code: a change that would break running
// workflows fails here, and must be guarded with workflow.GetVersion.
func TestReplay_RecordedHistories(t *testing.T) {
	cases := []struct {
		name, file, workflow string
		fn                   any
	}{
		{"message delivered on the first attempt", "testdata/message_history.json", WorkflowMessage, Message},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(c.fn, workflowOpts(c.workflow))
			if err := r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), c.file); err != nil {
				t.Fatalf("replay %s: %v", c.file, err)
			}
		})
	}
}
