package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/klaxonhq/klaxon/workflows"
)

// BenchmarkInbound_TextToWorkflow measures, one text at a time with the
// worker up, the time from posting a signed inbound-SMS webhook to (a) its
// Inbound workflow being started by the dispatcher, (b) the workflow having
// the text in hand (its first step, loading the event, recorded in its
// history) and (c) the workflow having handled it (a text to a number of nothing from a sender already
// answered this hour: turn check, channel lookup, polite reply refused,
// event marked processed). One sender keeps reply deliveries out of the
// measurement.
//
//	go test ./cmd/klaxon -run '^$' -bench BenchmarkInbound_TextToWorkflow -benchtime 200x
func BenchmarkInbound_TextToWorkflow(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	const nobody, sender = "+15555550177", "+15555558000"
	run := fmt.Sprint(time.Now().UnixNano())
	ctx := context.Background()
	wait := func(sid string) (handed, processed time.Time) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			var h1, p1 *time.Time
			err := h.db.Pool.QueryRow(ctx, `SELECT handed_at, processed_at FROM inbound_events WHERE dedup_key = $1`, sid).Scan(&h1, &p1)
			if err == nil && h1 != nil && p1 != nil {
				return *h1, *p1
			}
			if time.Now().After(deadline) {
				b.Fatalf("text %s not processed in 30 s", sid)
			}
			time.Sleep(500 * time.Microsecond)
		}
	}
	for i := range 20 {
		sid := fmt.Sprintf("SM%sw%04d", run, i)
		h.signedText(sid, sender, nobody, "warm")
		wait(sid)
	}
	var toHanded, toProcessed []time.Duration
	starts := map[string]time.Time{}
	i := 0
	for b.Loop() {
		sid := fmt.Sprintf("SM%s%06d", run, i)
		i++
		start := time.Now()
		if code := h.signedText(sid, sender, nobody, "hello"); code != 200 {
			b.Fatalf("status %d", code)
		}
		handed, processed := wait(sid)
		toHanded = append(toHanded, handed.Sub(start))
		toProcessed = append(toProcessed, processed.Sub(start))
		starts[sid] = start
	}
	b.StopTimer()
	var toReceived []time.Duration
	for sid, start := range starts {
		it := h.temporal.GetWorkflowHistory(ctx, workflows.InboundWorkflowID(sid), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				b.Fatal(err)
			}
			if ev.GetEventType() == enumspb.EVENT_TYPE_MARKER_RECORDED {
				toReceived = append(toReceived, ev.GetEventTime().AsTime().Sub(start))
				break
			}
		}
	}
	slices.Sort(toReceived)
	b.ReportMetric(float64(percentile(toReceived, 50).Microseconds())/1000, "received-p50-ms")
	b.ReportMetric(float64(percentile(toReceived, 99).Microseconds())/1000, "received-p99-ms")
	slices.Sort(toHanded)
	slices.Sort(toProcessed)
	b.ReportMetric(float64(percentile(toHanded, 50).Microseconds())/1000, "started-p50-ms")
	b.ReportMetric(float64(percentile(toHanded, 99).Microseconds())/1000, "started-p99-ms")
	b.ReportMetric(float64(percentile(toProcessed, 50).Microseconds())/1000, "handled-p50-ms")
	b.ReportMetric(float64(percentile(toProcessed, 99).Microseconds())/1000, "handled-p99-ms")
}
