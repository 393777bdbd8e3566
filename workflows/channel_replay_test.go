package workflows

import (
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

// TestReplay_ChannelCreateHistory replays a ChannelCreate recorded from a
// real run (a CHANNEL text, low reserve: requester, two welcomes,
// maintainers and diagnostics) against today's code: a change that would
// break running channel requests fails here and needs workflow.GetVersion.
func TestReplay_ChannelCreateHistory(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(ChannelCreate, workflowOpts(WorkflowChannelCreate))
	if err := r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), "testdata/channel_create_history.json"); err != nil {
		t.Fatalf("replay: %v", err)
	}
}
