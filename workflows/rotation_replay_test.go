package workflows

import (
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

// TestReplay_RotationHistories replays Rotation runs recorded on the dev
// server against today's code: a change that would break running rotation
// workflows fails here and needs workflow.GetVersion.
func TestReplay_RotationHistories(t *testing.T) {
	tests := []struct{ name, file string }{
		// Created with its start a minute ahead: the reminder at once, a
		// re-plan (the reminder setting edited) while waiting, the start
		// handoff to the first member, continue-as-new.
		{"start with reminder and re-plan", "testdata/rotation_start_history.json"},
		// An override from two seconds ahead: a re-plan, the handoff to the
		// cover with both texts at once, continue-as-new.
		{"override handoff", "testdata/rotation_override_history.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(Rotation, workflowOpts(WorkflowRotation))
			if err := r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), tt.file); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}
