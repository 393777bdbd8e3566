package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/paging"
)

// BenchmarkMatrix_SendToVisible measures, one line at a time, the time
// from the bot's Send of a line into the team room to another Matrix
// client (alice's, syncing) receiving it, on a real Dendrite.
func BenchmarkMatrix_SendToVisible(b *testing.B) {
	m := newMatrixHarness(b)
	ctx := context.Background()
	// put is the bot's own share: the homeserver accepting the event.
	var put []time.Duration
	send := func(text string) time.Duration {
		start := time.Now()
		ev, err := m.app.matrix.Send(ctx, chat.Outgoing{Text: text, Notice: true})
		if err != nil {
			b.Fatal(err)
		}
		put = append(put, time.Since(start))
		m.waitEvent(b, text, func(e *event.Event, _ map[string]any) bool { return e.ID == id.EventID(ev) })
		return time.Since(start)
	}
	for i := range 20 {
		send(fmt.Sprintf("[SMS] <alice> warm %d", i))
	}
	put = put[:0]
	var lat []time.Duration
	i := 0
	for b.Loop() {
		lat = append(lat, send(fmt.Sprintf("[SMS] <alice> line %d", i)))
		i++
	}
	slices.Sort(put)
	b.ReportMetric(float64(percentile(put, 50).Microseconds())/1000, "put-p50-ms")
	b.ReportMetric(float64(percentile(put, 99).Microseconds())/1000, "put-p99-ms")
	reportLatencies(b, lat)
}

// BenchmarkMatrix_InboundSMSToRoom measures, one text at a time, the time
// from a linked person's text to the paging number (the simulator posting
// the signed webhook) to another Matrix client seeing it in the team room
// as "[SMS] <nick> …": gateway, inbound workflow, relay, the network's
// outbox, the bot's send, the homeserver, alice's sync.
//
// Texts are spaced BENCH_MATRIX_GAP apart (default 300ms, a busy person's
// pace): back to back, each text also waits for the homeserver and both
// clients to finish with the one before (set 0 to measure that). Beside
// the whole path it reports where the time went, from the rows' own
// times: relay (webhook received → chat line written), outbox (line
// written → the homeserver took it and the line is marked sent) and sync
// (→ alice's client has it).
func BenchmarkMatrix_InboundSMSToRoom(b *testing.B) {
	gap := 300 * time.Millisecond
	if v := os.Getenv("BENCH_MATRIX_GAP"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("BENCH_MATRIX_GAP: %v", err)
		}
		gap = d
	}
	m := newMatrixHarness(b)
	const aliceNumber = "+15555550123"
	m.linkAlice(b, aliceNumber)
	ctx := context.Background()
	var relay, outbox, sync []time.Duration
	text := func(body string) time.Duration {
		time.Sleep(gap)
		start := time.Now()
		if _, err := m.sim.SendSMS(ctx, aliceNumber, hPagingNumber, body); err != nil {
			b.Fatal(err)
		}
		want := "[SMS] <a\u200blice> " + body
		m.waitEvent(b, body, func(_ *event.Event, c map[string]any) bool { return c["body"] == want })
		total := time.Since(start)
		seen := start.Add(total)
		var received, written time.Time
		var sent *time.Time
		for sent == nil {
			if err := m.store.Pool().QueryRow(ctx, `
				SELECT (SELECT received_at FROM inbound_events WHERE body = $1), created_at, sent_at
				FROM chat_lines WHERE body = $2`, body, want).Scan(&received, &written, &sent); err != nil {
				b.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		relay = append(relay, written.Sub(received))
		outbox = append(outbox, sent.Sub(written))
		sync = append(sync, max(seen.Sub(*sent), 0))
		return total
	}
	for i := range 10 {
		text(fmt.Sprintf("warm %d", i))
	}
	relay, outbox, sync = relay[:0], outbox[:0], sync[:0]
	var lat []time.Duration
	i := 0
	for b.Loop() {
		lat = append(lat, text(fmt.Sprintf("line %d", i)))
		i++
	}
	for _, part := range []struct {
		name string
		d    []time.Duration
	}{{"relay", relay}, {"outbox", outbox}, {"sync", sync}} {
		slices.Sort(part.d)
		b.ReportMetric(float64(percentile(part.d, 50).Microseconds())/1000, part.name+"-p50-ms")
	}
	reportLatencies(b, lat)
}

// BenchmarkMatrix_CheckmarkToAck measures the time from alice's ✅ on a
// page's message to the page being acknowledged in Postgres (ack-*), and
// to the bot's answer, said once the page's workflow has canceled every
// pending notification (done-*).
func BenchmarkMatrix_CheckmarkToAck(b *testing.B) {
	m := newMatrixHarness(b)
	ctx := context.Background()
	const aliceNumber = "+15555550123"
	m.linkAlice(b, aliceNumber)
	var acked, done []time.Duration
	i := 0
	for b.Loop() {
		summary := fmt.Sprintf("derp %d is broken", i)
		pageID, code := m.createPage(b, map[string]any{"target": "user:alice", "summary": summary, "escalate_after_seconds": 3600})
		if code != http.StatusAccepted {
			b.Fatalf("create page: %d", code)
		}
		root := m.pageMessage(b, pageID, summary)
		want := fmt.Sprintf("%s: page %d acknowledged; every pending notification is canceled.", aliceID(m), pageID)

		start := time.Now()
		if _, err := m.alice.SendReaction(ctx, m.room, id.EventID(root), "✅"); err != nil {
			b.Fatal(err)
		}
		for {
			if p, err := m.store.GetPage(ctx, pageID); err == nil && p.Status == paging.StatusAcked {
				break
			}
			time.Sleep(time.Millisecond)
		}
		acked = append(acked, time.Since(start))
		m.waitEvent(b, "the ack's answer", func(_ *event.Event, c map[string]any) bool { return c["body"] == want })
		done = append(done, time.Since(start))
		i++
	}
	slices.Sort(acked)
	slices.Sort(done)
	b.ReportMetric(float64(percentile(acked, 50).Microseconds())/1000, "ack-p50-ms")
	b.ReportMetric(float64(percentile(acked, 99).Microseconds())/1000, "ack-p99-ms")
	b.ReportMetric(float64(percentile(done, 50).Microseconds())/1000, "done-p50-ms")
	b.ReportMetric(float64(percentile(done, 99).Microseconds())/1000, "done-p99-ms")
}

func aliceID(m *matrixHarness) string { return m.hs.UserID(testenv.MatrixAlice) }
