package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/klaxonhq/klaxon/internal/leaks"
)

// RecordHistoriesEnv names a directory: when set, every harness writes the
// history of every workflow it ran there, as JSON the replayer reads, for
// workflows/testdata (see README, "Versioning").
const RecordHistoriesEnv = "KLAXON_RECORD_HISTORIES"

// checkPayloadPrivacy runs when a harness's test ends: it walks the
// history of every workflow the harness ran — inputs, results, signals,
// updates, queries' registrations, markers (local activities), memos,
// search attributes, failures — and fails the test when one holds a
// person's phone number, an email address, a verification or login code,
// or the words of a text sent to a channel. Klaxon's own numbers (the
// paging, signup and diagnostics numbers and the channel pool) are public
// and may appear. Every end-to-end test is thus a payload-privacy test of
// the workflow kinds it exercises.
func (h *harness) checkPayloadPrivacy() {
	t := h.t
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if h.cfg.PayloadKeys != "" {
		// Sealed payloads hold nothing readable; the test of the codec
		// checks them.
		return
	}
	ours, secrets, err := h.privateWords(ctx)
	if err != nil {
		t.Errorf("payload privacy: %v", err)
		return
	}
	runs, err := h.workflowRuns(ctx)
	if err != nil {
		t.Errorf("payload privacy: %v", err)
		return
	}
	record := os.Getenv(RecordHistoriesEnv)
	for _, r := range runs {
		events, err := h.history(ctx, r)
		if err != nil {
			t.Errorf("payload privacy: %v", err)
			continue
		}
		for _, ev := range events {
			for _, text := range eventTexts(ev) {
				for _, leak := range leaks.Find(text, ours, secrets) {
					t.Errorf("workflow %s (%s) event %d (%s) holds %s", r.GetExecution().GetWorkflowId(), r.GetType().GetName(),
						ev.GetEventId(), ev.GetEventType(), leak)
				}
			}
		}
		if record != "" {
			if err := writeHistory(record, t.Name(), r, events); err != nil {
				t.Errorf("record history: %v", err)
			}
		}
	}
}

// privateWords are Klaxon's own numbers (configured, in the pool, on a
// channel, or reached by a text), which may appear in payloads, and the
// words people texted to channels, which may not.
func (h *harness) privateWords(ctx context.Context) (ours, secrets []string, err error) {
	ours = []string{h.cfg.FromNumber, h.cfg.SignupNumber, h.cfg.DiagnosticsNumber}
	rows, err := h.store.Pool().Query(ctx, `SELECT phone FROM phone_numbers UNION SELECT phone FROM channels
		 UNION SELECT to_number FROM inbound_events`)
	if err != nil {
		return nil, nil, fmt.Errorf("our numbers: %w", err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, nil, err
		}
		ours = append(ours, n)
	}
	rows.Close()
	rows, err = h.store.Pool().Query(ctx, `
		SELECT e.body FROM inbound_events e
		WHERE e.kind = 'sms' AND e.to_number IN (SELECT phone FROM channels)`)
	if err != nil {
		return nil, nil, fmt.Errorf("channel texts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, nil, err
		}
		secrets = append(secrets, leaks.Quotable(body)...)
	}
	return ours, secrets, rows.Err()
}

// workflowRuns lists every workflow run on the harness's task queue.
func (h *harness) workflowRuns(ctx context.Context) ([]*workflowpb.WorkflowExecutionInfo, error) {
	var out []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for {
		resp, err := h.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query:         fmt.Sprintf("TaskQueue = %q", h.cfg.TaskQueue),
			NextPageToken: token,
		})
		if err != nil {
			return nil, fmt.Errorf("list workflows: %w", err)
		}
		out = append(out, resp.GetExecutions()...)
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return out, nil
		}
	}
}

// history is every event of one run.
func (h *harness) history(ctx context.Context, r *workflowpb.WorkflowExecutionInfo) ([]*historypb.HistoryEvent, error) {
	it := h.temporal.GetWorkflowHistory(ctx, r.GetExecution().GetWorkflowId(), r.GetExecution().GetRunId(), false,
		enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", r.GetExecution().GetWorkflowId(), err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// eventTexts is every string and every payload's data in an event.
func eventTexts(ev *historypb.HistoryEvent) []string {
	var out []string
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if p, ok := m.Interface().(*commonpb.Payload); ok {
			out = append(out, string(p.GetData()))
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList():
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					item := l.Get(i)
					if fd.Kind() == protoreflect.MessageKind {
						walk(item.Message())
					} else if fd.Kind() == protoreflect.StringKind {
						out = append(out, item.String())
					}
				}
			case fd.IsMap():
				v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
					out = append(out, k.String())
					if fd.MapValue().Kind() == protoreflect.MessageKind {
						walk(mv.Message())
					} else if fd.MapValue().Kind() == protoreflect.StringKind {
						out = append(out, mv.String())
					}
					return true
				})
			case fd.Kind() == protoreflect.MessageKind:
				walk(v.Message())
			case fd.Kind() == protoreflect.StringKind:
				out = append(out, v.String())
			}
			return true
		})
	}
	walk(proto.Clone(ev).ProtoReflect())
	return out
}

// writeHistory writes one run's history to dir as the replayer reads it,
// named for the test and the run.
func writeHistory(dir, test string, r *workflowpb.WorkflowExecutionInfo, events []*historypb.HistoryEvent) error {
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&historypb.History{Events: events})
	if err != nil {
		return err
	}
	clean := func(s string) string {
		return strings.Trim(regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(s, "_"), "_")
	}
	name := fmt.Sprintf("%s__%s__%s.json", clean(test), clean(r.GetType().GetName()), clean(r.GetExecution().GetWorkflowId()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), data, 0o644)
}

// TestPayloadPrivacy_TheCheckFindsWhatItLooksFor proves the checker is not
// blind: a history that carries a number, an address, a code and a
// channel text fails it, and Klaxon's own number does not.
func TestPayloadPrivacy_TheCheckFindsWhatItLooksFor(t *testing.T) {
	ev := &historypb.HistoryEvent{EventId: 1, Attributes: &historypb.HistoryEvent_WorkflowExecutionStartedEventAttributes{
		WorkflowExecutionStartedEventAttributes: &historypb.WorkflowExecutionStartedEventAttributes{
			Input: &commonpb.Payloads{Payloads: []*commonpb.Payload{
				{Data: []byte(`{"From":"+15555550100","To":"+15555550123","Body":"meet at the north gate"}`)},
				{Data: []byte(`{"to":"alice@example.com","code":"123456"}`)},
			}},
		},
	}}
	var found []string
	for _, text := range eventTexts(ev) {
		found = append(found, leaks.Find(text, []string{"+15555550100"}, []string{"meet at the north gate"})...)
	}
	for _, want := range []string{"a phone number", "an email address", "a code", "a channel text"} {
		if !slices.ContainsFunc(found, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("found %q, want %s among them", found, want)
		}
	}
	for _, l := range found {
		if strings.Contains(l, "0100") {
			t.Errorf("our own number reported: %q", l)
		}
	}
}
