package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/klaxonhq/klaxon/codec"
	"github.com/klaxonhq/klaxon/workflows"
)

// With KLAXON_PAYLOAD_KEYS set, Temporal's history holds no phone number and
// no message body in clear, everything still works, and the gateway opens
// the payloads for a maintainer with the API token (the `temporal` CLI's
// --codec-endpoint) — which show references, not the number or the body.
func TestE2E_Codec_HistoryHoldsNoNumberOrBodyInClear(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, codec.KeySize))
	h := newHarness(t, harnessOptions{Env: map[string]string{"KLAXON_PAYLOAD_KEYS": key}})
	const to, body = "+15555550177", "replica lag on db-7"

	var sent struct {
		ID         string `json:"id"`
		WorkflowID string `json:"workflow_id"`
	}
	if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": to, "body": body}, &sent); code != http.StatusAccepted {
		t.Fatalf("send: status %d", code)
	}
	h.waitText(to, body)

	// Read the history with a client that has no key, as the Web UI does.
	wid := workflows.MessageWorkflowID(sent.ID)
	var res workflows.MessageResult
	if err := h.temporal.GetWorkflow(context.Background(), wid, "").Get(context.Background(), &res); err == nil {
		t.Fatal("a client without the key decoded the workflow's result")
	}
	var sealed []*commonpb.Payload
	it := h.temporal.GetWorkflowHistory(context.Background(), wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := protojson.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, clear := range []string{to, body, base64.StdEncoding.EncodeToString([]byte(to))} {
			if strings.Contains(string(raw), clear) {
				t.Errorf("history event %s shows %q in clear", ev.GetEventType(), clear)
			}
		}
		sealed = append(sealed, inputOf(ev)...)
	}
	if len(sealed) == 0 {
		t.Fatal("found no workflow input in the history")
	}
	for _, p := range sealed {
		if enc := string(p.GetMetadata()["encoding"]); enc != codec.Encoding {
			t.Errorf("payload encoding %q, want %q", enc, codec.Encoding)
		}
	}

	// The codec endpoint opens them, for the token holder only.
	req, err := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	if err != nil {
		t.Fatal(err)
	}
	post := func(token string) (*http.Response, string) {
		r, _ := http.NewRequest(http.MethodPost, h.baseURL+"/codec/decode", bytes.NewReader(req))
		r.Header.Set("Content-Type", "application/json")
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp, b.String()
	}
	if resp, _ := post(""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("decode without the token: %d, want 401", resp.StatusCode)
	}
	resp, out := post(hToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("decode: %d %s", resp.StatusCode, out)
	}
	var opened commonpb.Payloads
	if err := protojson.Unmarshal([]byte(out), &opened); err != nil {
		t.Fatalf("decode answer %q: %v", out, err)
	}
	var plain strings.Builder
	for _, p := range opened.GetPayloads() {
		plain.Write(p.GetData())
	}
	// What it opens is what the payloads hold: the message's id, never
	// the number or the words, which stay in Postgres (the claim check).
	if !strings.Contains(plain.String(), sent.ID) {
		t.Errorf("decoded input %q lacks the message id", plain.String())
	}
	if strings.Contains(plain.String(), to) || strings.Contains(plain.String(), body) {
		t.Errorf("decoded input %q holds the number or the body", plain.String())
	}
}

// inputOf returns the workflow input of a start event, or nothing.
func inputOf(ev *historypb.HistoryEvent) []*commonpb.Payload {
	if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
		return a.GetInput().GetPayloads()
	}
	return nil
}
