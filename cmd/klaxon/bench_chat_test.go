package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// The bot's flood control lets a burst of lines through, then about one a
// second; the latency benchmarks space their lines so that each measures
// the path, not the wait for the bucket.
const chatBenchSpacing = 1100 * time.Millisecond

// BenchmarkChat_SMSToChannel measures a text to the paging number from a
// linked number — the signed webhook posted — until joe's IRC client, in
// #klaxon on a real ngircd, reads the "[SMS] <alice> …" line.
//
//	go test ./cmd/klaxon -run '^$' -bench BenchmarkChat_SMSToChannel -benchtime 40x
func BenchmarkChat_SMSToChannel(b *testing.B) {
	ch := newChatHarness(b)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		time.Sleep(chatBenchSpacing)
		b.StartTimer()
		body := fmt.Sprintf("bench %s %d", run, i)
		start := time.Now()
		if code := ch.signedText(fmt.Sprintf("SM%s%06d", run, i), aliceNumber, hPagingNumber, body); code != 200 {
			b.Fatalf("status %d", code)
		}
		ev := ch.joe.hear(b, body)
		lat = append(lat, ev.Time.Sub(start))
		i++
	}
	reportLatencies(b, lat)
}

// BenchmarkChat_SMSCommandToProvider measures joe typing "klaxon: sms
// alice …" in #klaxon until the provider (the simulator's REST API) takes
// the text.
//
//	go test ./cmd/klaxon -run '^$' -bench BenchmarkChat_SMSCommandToProvider -benchtime 40x
func BenchmarkChat_SMSCommandToProvider(b *testing.B) {
	ch := newChatHarness(b)
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var lat []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		time.Sleep(chatBenchSpacing)
		b.StartTimer()
		msg := fmt.Sprintf("bench %s %d", run, i)
		start := time.Now()
		ch.joe.say(b, "#klaxon", "klaxon: sms alice "+msg)
		m := ch.waitSMS(aliceNumber, func(m simulator.Message) bool { return m.Body == "joe> "+msg })
		lat = append(lat, m.Created.Sub(start))
		i++
	}
	reportLatencies(b, lat)
}

// BenchmarkChat_BacklogAfterReconnect texts the paging number N times
// (BENCH_CHAT_BACKLOG, default 500) while the IRC server is down, waits
// until every relay waits in the outbox, brings the server back, and
// measures from the bot's reconnection to joe reading the last line;
// every line must arrive once and in order. The bot's flood control (a
// burst of 5, then 1 line/s) bounds the rate.
//
//	go test ./cmd/klaxon -run '^$' -bench BenchmarkChat_BacklogAfterReconnect -benchtime 1x -timeout 30m
func BenchmarkChat_BacklogAfterReconnect(b *testing.B) {
	n := 500
	if v, err := strconv.Atoi(os.Getenv("BENCH_CHAT_BACKLOG")); err == nil && v > 0 {
		n = v
	}
	b.StopTimer()
	for range b.N {
		ch := newChatHarness(b)
		ch.ircd.Kill()
		ch.eventually("the bot disconnected", func() bool { return !ch.app.irc.Connected() })
		run := strconv.FormatInt(time.Now().UnixNano(), 36)
		for i := range n {
			if code := ch.signedText(fmt.Sprintf("SM%s%06d", run, i), aliceNumber, hPagingNumber, fmt.Sprintf("away %s %04d", run, i)); code != 200 {
				b.Fatalf("status %d", code)
			}
		}
		deadline := time.Now().Add(5 * time.Minute)
		for {
			var count int
			_ = ch.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM chat_lines WHERE body LIKE $1`, "%away "+run+"%").Scan(&count)
			if count == n {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d relays queued", count, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err := ch.ircd.Start(); err != nil {
			b.Fatal(err)
		}
		ch.eventually("joe back on IRC", ch.joe.c.Connected)
		for !ch.app.irc.Connected() {
			time.Sleep(time.Millisecond)
		}
		b.StartTimer()
		back := time.Now()
		last := fmt.Sprintf("away %s %04d", run, n-1)
		for len(ch.joe.heardAll(last)) == 0 {
			if time.Since(back) > time.Duration(n)*3*time.Second {
				b.Fatalf("joe heard %d of %d lines", len(ch.joe.heardAll("away "+run)), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		took := time.Since(back)
		b.StopTimer()
		time.Sleep(2 * time.Second)
		got := ch.joe.heardAll("away " + run)
		if len(got) != n {
			b.Fatalf("joe heard %d lines, want %d once each", len(got), n)
		}
		if !slices.IsSortedFunc(got, strings.Compare) {
			b.Fatalf("lines out of order: %q", got)
		}
		b.ReportMetric(took.Seconds(), "reconnect-to-last-s")
		b.ReportMetric(float64(n)/took.Seconds(), "lines/s")
	}
}
