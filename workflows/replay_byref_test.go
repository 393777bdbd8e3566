package workflows

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/internal/leaks"
)

// byRefHistories are the histories recorded after workflows began to carry
// references instead of numbers, addresses, codes and channel texts: one
// or more of every workflow kind, from the end-to-end tests (Postgres, the
// Temporal dev server, the phone simulator; KLAXON_RECORD_HISTORIES).
func byRefHistories() []struct {
	name, file, workflow string
	fn                   any
} {
	return []struct {
		name, file, workflow string
		fn                   any
	}{
		{"message retried until the provider is back", "byref_message_retry_history.json", WorkflowMessage, Message},
		{"verification through the CLI and the API", "byref_verify_api_history.json", WorkflowVerifyContact, VerifyContact},
		{"verification by a code texted back", "byref_verify_reply_history.json", WorkflowVerifyContact, VerifyContact},
		{"login codes, valid once", "byref_otp_history.json", WorkflowOTP, OTP},
		{"page acked and resolved by texted replies", "byref_page_text_replies_history.json", WorkflowPage, Page},
		{"page: text, call, keypress (open)", "byref_page_keypress_history.json", WorkflowPage, Page},
		{"an FYI of a page opened", "byref_page_fyi_history.json", WorkflowPageFYI, PageFYI},
		{"an Alertmanager group resolved", "byref_alert_resolve_history.json", WorkflowAlertResolve, AlertResolve},
		{"rotation with overrides and handoff texts", "byref_rotation_overrides_history.json", WorkflowRotation, Rotation},
		{"channel created from a CHANNEL text", "byref_channel_create_sms_history.json", WorkflowChannelCreate, ChannelCreate},
		{"channel created from the CLI, low reserve", "byref_channel_create_cli_history.json", WorkflowChannelCreate, ChannelCreate},
		{"broadcast", "byref_broadcast_history.json", WorkflowBroadcast, Broadcast},
		{"broadcast batch", "byref_broadcast_batch_history.json", WorkflowBroadcastBatch, BroadcastBatch},
		{"numbers provisioned", "byref_provision_numbers_history.json", WorkflowProvisionNumbers, ProvisionNumbers},
		{"directory synchronised", "byref_directory_sync_history.json", WorkflowDirectorySync, DirectorySync},
		{"inbound: a hotline text forwarded", "byref_inbound_hotline_history.json", WorkflowInbound, Inbound},
		{"inbound: REPLY to a hotline id (open)", "byref_inbound_hotline_reply_history.json", WorkflowInbound, Inbound},
		{"inbound: a BROADCAST", "byref_inbound_broadcast_history.json", WorkflowInbound, Inbound},
		{"inbound: a CHANNEL request", "byref_inbound_channel_request_history.json", WorkflowInbound, Inbound},
		{"inbound: a code texted back", "byref_inbound_code_reply_history.json", WorkflowInbound, Inbound},
		{"inbound: a page reply", "byref_inbound_page_reply_history.json", WorkflowInbound, Inbound},
		{"inbound: get HANDLE now", "byref_inbound_get_now_history.json", WorkflowInbound, Inbound},
		{"inbound: STOP", "byref_inbound_stop_history.json", WorkflowInbound, Inbound},
		{"inbound: a text to a number of nothing", "byref_inbound_polite_history.json", WorkflowInbound, Inbound},
		{"inbound: a keypress on a page's call", "byref_inbound_keypress_history.json", WorkflowInbound, Inbound},
		{"page opened from a Matrix room, acked by a reaction (open)", "byref_page_from_matrix_history.json", WorkflowPage, Page},
		{"Matrix outbox: page thread lines (open)", "byref_chat_outbox_matrix_history.json", WorkflowChatOutbox, ChatOutbox},
		{"IRC outbox: a verification code said privately (open)", "byref_chat_outbox_irc_history.json", WorkflowChatOutbox, ChatOutbox},
		{"retention purge", "byref_retention_history.json", WorkflowRetention, Retention},
	}
}

// TestReplay_HistoriesByReference replays the histories recorded by
// reference against today's code.
func TestReplay_HistoriesByReference(t *testing.T) {
	for _, c := range byRefHistories() {
		t.Run(c.name, func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(c.fn, workflowOpts(c.workflow))
			file := filepath.Join("testdata", c.file)
			if err := r.ReplayWorkflowHistoryFromJSONFile(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), file); err != nil {
				t.Fatalf("replay %s: %v", file, err)
			}
		})
	}
}

// TestTestdata_NewHistoriesHoldNoPersonalData walks every payload and
// string of the histories recorded by reference and fails on a phone
// number that is not one of Klaxon's own (testdata/OWN_NUMBERS), an email
// address or a code. (The words texted to channels are checked where they
// are known: by every end-to-end harness, as it records.) The histories
// recorded before references hold numbers, and stay as they are.
func TestTestdata_NewHistoriesHoldNoPersonalData(t *testing.T) {
	ours := ownNumbers(t)
	for _, c := range byRefHistories() {
		data, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		for _, text := range historyTexts(v) {
			for _, leak := range leaks.Find(text, ours, nil) {
				t.Errorf("%s holds %s", c.file, leak)
			}
		}
	}
}

func ownNumbers(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("testdata/OWN_NUMBERS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// historyTexts is every string of a history's JSON, with payload data
// (base64 in JSON) decoded.
func historyTexts(v any) []string {
	var out []string
	var walk func(k string, v any)
	walk = func(k string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for kk, vv := range x {
				walk(kk, vv)
			}
		case []any:
			for _, vv := range x {
				walk(k, vv)
			}
		case string:
			out = append(out, x)
			if k == "data" {
				if d, err := decodeBase64(x); err == nil {
					out = append(out, string(d))
				}
			}
		}
	}
	walk("", v)
	return out
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// kindsRegistry records the workflow kinds Register registers.
type kindsRegistry struct {
	worker.Registry
	kinds map[string]bool
}

func (k kindsRegistry) RegisterWorkflowWithOptions(_ interface{}, o workflow.RegisterOptions) {
	k.kinds[o.Name] = true
}

func (k kindsRegistry) RegisterActivityWithOptions(interface{}, activity.RegisterOptions) {}

// TestReplay_EveryWorkflowKindHasAHistory fails when a workflow kind is
// registered without a history recorded by reference: a kind with none
// could change shape under running workflows unnoticed.
func TestReplay_EveryWorkflowKindHasAHistory(t *testing.T) {
	k := kindsRegistry{kinds: map[string]bool{}}
	Register(k, Deps{})
	for _, c := range byRefHistories() {
		delete(k.kinds, c.workflow)
	}
	for kind := range k.kinds {
		t.Errorf("workflow kind %s has no recorded history: record one (KLAXON_RECORD_HISTORIES) and list it in byRefHistories", kind)
	}
}
