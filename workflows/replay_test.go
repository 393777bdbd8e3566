package workflows

import (
	"log/slog"
	"testing"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
)

// TestReplay_RecordedHistories replays histories recorded from real runs
// (the harness: Postgres, the Temporal dev server, the phone simulator)
// against today's workflow code: a change that would break running
// workflows fails here, and must be guarded with workflow.GetVersion.
func TestReplay_RecordedHistories(t *testing.T) {
	cases := []struct {
		name, file, workflow string
		fn                   any
	}{
		{"message delivered on the first attempt", "testdata/message_history.json", WorkflowMessage, Message},

		{"SMS verification: wrong code, resend after a minute, new code", "testdata/verify_resend_history.json", WorkflowVerifyContact, VerifyContact},
		{"verification by codes texted back: wrong, then right", "testdata/verify_reply_history.json", WorkflowVerifyContact, VerifyContact},
		{"login code: wrong, then right", "testdata/otp_history.json", WorkflowOTP, OTP},
		{"STOP to the paging number", "testdata/inbound_stop_history.json", WorkflowInbound, Inbound},
		{"a code texted to the paging number", "testdata/inbound_code_reply_history.json", WorkflowInbound, Inbound},
		{"a text to a number of nothing", "testdata/inbound_polite_history.json", WorkflowInbound, Inbound},

		// Text, call, keypress (ack through the gather webhook), delivery
		// statuses, resolution by a texted "1c".
		{"page acked by keypress, resolved by text", "testdata/page_keypress_history.json", WorkflowPage, Page},
		// A policy of two steps, repeated; a busy call moving on at once;
		// ack by a texted "1a" and resolution through the API.
		{"page policy steps, acked by text, resolved by API", "testdata/page_policy_history.json", WorkflowPage, Page},
		// The escalate update (version escalate-now): a two-step policy
		// escalated from the web console at once, acked there, resolved
		// through the API.
		{"page escalated now, acked in the console", "testdata/page_escalate_now_history.json", WorkflowPage, Page},

		// Created with its start a minute ahead: the reminder at once, a
		// re-plan (the reminder setting edited) while waiting, the start
		// handoff to the first member, continue-as-new.
		{"rotation start with reminder and re-plan", "testdata/rotation_start_history.json", WorkflowRotation, Rotation},
		// An override from two seconds ahead: a re-plan, the handoff to the
		// cover with both texts at once, continue-as-new.
		{"rotation override handoff", "testdata/rotation_override_history.json", WorkflowRotation, Rotation},

		// A CHANNEL text, low reserve: requester, two welcomes, maintainers
		// and diagnostics.
		{"channel created from a text", "testdata/channel_create_history.json", WorkflowChannelCreate, ChannelCreate},

		// `klaxon directory sync` against a real slapd: one person gone,
		// deactivated.
		{"directory sync from the API", "testdata/directory_sync_history.json", WorkflowDirectorySync, DirectorySync},
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
