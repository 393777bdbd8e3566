package workflows

import (
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestInboundReplay_RecordedHistories replays inbound, verification and
// login-code histories recorded from real runs (the harness: Postgres, the
// Temporal dev server, the phone simulator) against today's code. A change
// that would break running workflows fails here, and must be guarded with
// workflow.GetVersion.
func TestInboundReplay_RecordedHistories(t *testing.T) {
	cases := []struct {
		name, file, workflow string
		fn                   any
	}{
		{"SMS verification: wrong code, resend after a minute, new code", "testdata/verify_resend_history.json", WorkflowVerifyContact, VerifyContact},
		{"verification by codes texted back: wrong, then right", "testdata/verify_reply_history.json", WorkflowVerifyContact, VerifyContact},
		{"login code: wrong, then right", "testdata/otp_history.json", WorkflowOTP, OTP},
		{"STOP to the paging number", "testdata/inbound_stop_history.json", WorkflowInbound, Inbound},
		{"a code texted to the paging number", "testdata/inbound_code_reply_history.json", WorkflowInbound, Inbound},
		{"a text to a number of nothing", "testdata/inbound_polite_history.json", WorkflowInbound, Inbound},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(c.fn, workflow.RegisterOptions{Name: c.workflow})
			if err := r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), c.file); err != nil {
				t.Fatalf("replay %s: %v", c.file, err)
			}
		})
	}
}
