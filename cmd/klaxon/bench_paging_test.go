package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/paging"
)

// pagingCrowd adds n users with verified phones and returns their numbers.
// Benchmarks cycle through them: the per-recipient rate limit (one text a
// second) would otherwise measure itself.
func pagingCrowd(b testing.TB, h *harness, n int) []string {
	b.Helper()
	numbers := make([]string, n)
	for i := range n {
		numbers[i] = fmt.Sprintf("+1555600%04d", i)
		pagingPerson(b, h, fmt.Sprintf("u%d", i), numbers[i], "")
	}
	return numbers
}

// BenchmarkPaging_PostToFirstSMS measures the time from POST /api/v1/pages
// to the simulator receiving the Twilio API call of the page's first text,
// one page at a time: back to back (the next page as soon as the last text
// arrived, while that page's bookkeeping still runs) and paced (one page
// every 100 ms).
func BenchmarkPaging_PostToFirstSMS(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	numbers := pagingCrowd(b, h, 300)
	next := 0
	page := func() time.Duration {
		i := next
		next++
		n := i % len(numbers)
		summary := fmt.Sprintf("bench %d", i)
		start := time.Now()
		_, code := h.createPage(b, map[string]any{"target": fmt.Sprintf("user:u%d", n), "summary": summary, "escalate_after_seconds": 3600})
		if code != http.StatusAccepted {
			b.Fatalf("create page: %d", code)
		}
		return h.waitText(numbers[n], summary).Created.Sub(start)
	}
	for range 30 { // warm up connections and the workflow cache
		page()
	}
	for _, gap := range []time.Duration{0, 100 * time.Millisecond} {
		name := "back-to-back"
		if gap > 0 {
			name = "every-" + gap.String()
		}
		b.Run(name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				lat = append(lat, page())
				time.Sleep(gap - time.Since(start))
			}
			reportLatencies(b, lat)
		})
	}
}

// BenchmarkPaging_AckToLastCancel measures the time from an acknowledgement
// to the page's last pending notification being canceled, for a page whose
// call and email are scheduled and whose text waits for the sending
// number's rate limit: through the API (which answers after the workflow
// has canceled everything and recorded it), and through the SMS reply
// webhook (until the page's record says acknowledged).
func BenchmarkPaging_AckToLastCancel(b *testing.B) {
	h := newHarness(b, harnessOptions{Env: map[string]string{"KLAXON_SEND_RATE": "1"}})
	numbers := pagingCrowd(b, h, 200)
	blocker := func(i int) {
		// A page that takes the sending number's slot for the next second.
		h.createPage(b, map[string]any{"target": fmt.Sprintf("user:u%d", 100+i%100), "summary": "blocker", "escalate_after_seconds": 3600})
	}
	var viaAPI, viaSMS []time.Duration
	acked := map[string]time.Time{} // victim summary → when its ack began
	ctx := context.Background()
	i := 0
	for b.Loop() {
		// The victim's text queues behind the blocker's.
		n := i % 100
		blocker(i)
		id, code := h.createPage(b, map[string]any{"target": fmt.Sprintf("user:u%d", n), "summary": fmt.Sprintf("victim %d", i), "escalate_after_seconds": 3600})
		if code != http.StatusAccepted {
			b.Fatalf("create page: %d", code)
		}
		// Let the workflow start and the text reach the queue.
		h.eventually("text queued", func() bool {
			var queued bool
			_ = h.db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM delivery_attempts WHERE message_id = $1 AND lane = 'retry')`,
				fmt.Sprintf("page/%d/0/0/sms", id)).Scan(&queued)
			return queued
		})
		start := time.Now()
		acked[fmt.Sprintf("victim %d", i)] = start
		if i%2 == 0 {
			if code := h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/ack", id), nil, nil); code != http.StatusOK {
				b.Fatalf("ack: %d", code)
			}
			viaAPI = append(viaAPI, time.Since(start))
		} else {
			rc, err := h.store.ReplyCodeOfPage(ctx, id, numbers[n])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := h.sim.SendSMS(ctx, numbers[n], hPagingNumber, fmt.Sprintf("%da", rc.Code)); err != nil {
				b.Fatal(err)
			}
			for {
				if p, err := h.store.GetPage(ctx, id); err == nil && p.Status == paging.StatusAcked {
					break
				}
				time.Sleep(time.Millisecond)
			}
			viaSMS = append(viaSMS, time.Since(start))
		}
		i++
		time.Sleep(1100 * time.Millisecond) // let the sending number's slot free up
	}
	slices.Sort(viaAPI)
	slices.Sort(viaSMS)
	if len(viaAPI) > 0 {
		b.ReportMetric(float64(percentile(viaAPI, 50).Microseconds())/1000, "api-p50-ms")
		b.ReportMetric(float64(percentile(viaAPI, 99).Microseconds())/1000, "api-p99-ms")
	}
	if len(viaSMS) > 0 {
		b.ReportMetric(float64(percentile(viaSMS, 50).Microseconds())/1000, "sms-p50-ms")
		b.ReportMetric(float64(percentile(viaSMS, 99).Microseconds())/1000, "sms-p99-ms")
	}
	// No victim text may reach the provider after its ack began. (One may
	// go out before: its slot can come up while the test looks for it.)
	before := 0
	for _, m := range h.sim.Messages() {
		_, rest, ok := strings.Cut(m.Body, ": victim ")
		if !ok || !strings.HasPrefix(m.Body, "Page ") {
			continue
		}
		n, _, _ := strings.Cut(rest, ".")
		at, ok := acked["victim "+n]
		switch {
		case !ok:
		case m.Created.After(at):
			b.Errorf("an acknowledged page's queued text was sent %s after the ack: %q", m.Created.Sub(at), m.Body)
		default:
			before++
		}
	}
	b.ReportMetric(float64(before), "sent-before-ack")
}

// BenchmarkPaging_EscalationTimingError measures how far each notification
// lands from its due time, for text at 0, call at +2 s and email at +4 s
// (escalate_after_seconds = 2), against the simulator's and mail sink's
// clocks.
func BenchmarkPaging_EscalationTimingError(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	var errs []time.Duration
	i := 0
	for b.Loop() {
		number := fmt.Sprintf("+1555700%04d", i)
		email := fmt.Sprintf("u%d@example.com", i)
		pagingPerson(b, h, fmt.Sprintf("t%d", i), number, email)
		h.sim.SetBehaviour(number, simulator.Behaviour{Answer: simulator.AnswerHuman}) // answers, never presses
		summary := fmt.Sprintf("timing %d", i)
		id, code := h.createPage(b, map[string]any{"target": fmt.Sprintf("user:t%d", i), "summary": summary, "escalate_after_seconds": 2})
		if code != http.StatusAccepted {
			b.Fatalf("create page: %d", code)
		}
		sms := h.waitText(number, summary)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		call, err := h.sim.WaitCall(ctx, number, nil)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		mail := h.waitMail(email, func(m mailsink.Mail) bool { return strings.Contains(m.Subject, summary) })
		t0 := sms.Created
		errs = append(errs, abs(call.Created.Sub(t0)-2*time.Second), abs(mail.Received.Sub(t0)-4*time.Second))
		h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/resolve", id), nil, nil)
		i++
	}
	slices.Sort(errs)
	b.ReportMetric(float64(percentile(errs, 50).Microseconds())/1000, "err-p50-ms")
	b.ReportMetric(float64(percentile(errs, 99).Microseconds())/1000, "err-p99-ms")
	b.ReportMetric(float64(errs[len(errs)-1].Microseconds())/1000, "err-max-ms")
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// BenchmarkPaging_SustainedPages creates pages from 8 concurrent API
// clients, each to a different person, and reports pages per second from
// the first request to the last page's first text reaching the simulator,
// with the first-text latency under that load.
func BenchmarkPaging_SustainedPages(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	numbers := pagingCrowd(b, h, 1000)
	var next atomic.Int64
	var mu sync.Mutex
	starts := map[string]time.Time{}
	n := b.N
	begin := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1))
				if i > n {
					return
				}
				summary := fmt.Sprintf("load %d", i)
				mu.Lock()
				starts[summary] = time.Now()
				mu.Unlock()
				if _, code := h.createPage(b, map[string]any{
					"target": fmt.Sprintf("user:u%d", i%len(numbers)), "summary": summary, "escalate_after_seconds": 3600,
				}); code != http.StatusAccepted {
					b.Errorf("create page: %d", code)
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Minute)
	var lat []time.Duration
	for {
		lat = lat[:0]
		var last time.Time
		for _, m := range h.sim.Messages() {
			summary, ok := strings.CutPrefix(m.Body, "Page ")
			if !ok || m.Direction != "outbound-api" {
				continue
			}
			_, summary, _ = strings.Cut(summary, ": ")
			summary, _, _ = strings.Cut(summary, ".")
			mu.Lock()
			st, found := starts[summary]
			mu.Unlock()
			if found {
				lat = append(lat, m.Created.Sub(st))
				if m.Created.After(last) {
					last = m.Created
				}
			}
		}
		if len(lat) >= n {
			b.ReportMetric(float64(n)/last.Sub(begin).Seconds(), "pages/s")
			reportLatencies(b, lat)
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d pages reached their first text", len(lat), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkPaging_OfferedLoad offers pages at fixed rates (open loop: a page
// every 1/rate seconds, whatever the answers) for 6 s per rate, each to a
// different person, and reports the first-text latency at each rate: the
// rate where p99 leaves the unloaded figure behind is the sustainable one.
func BenchmarkPaging_OfferedLoad(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	numbers := pagingCrowd(b, h, 2000)
	var seq atomic.Int64
	for _, rate := range []int{10, 20, 30, 40, 60} {
		b.Run(fmt.Sprintf("%d-per-s", rate), func(b *testing.B) {
			for b.Loop() {
				const window = 6 * time.Second
				var mu sync.Mutex
				var lat []time.Duration
				var wg sync.WaitGroup
				tick := time.NewTicker(time.Second / time.Duration(rate))
				end := time.Now().Add(window)
				for time.Now().Before(end) {
					<-tick.C
					i := int(seq.Add(1))
					wg.Add(1)
					go func() {
						defer wg.Done()
						n := i % len(numbers)
						summary := fmt.Sprintf("offered %d", i)
						start := time.Now()
						if _, code := h.createPage(b, map[string]any{"target": fmt.Sprintf("user:u%d", n), "summary": summary, "escalate_after_seconds": 3600}); code != http.StatusAccepted {
							b.Errorf("create page: %d", code)
							return
						}
						m := h.waitText(numbers[n], summary)
						mu.Lock()
						lat = append(lat, m.Created.Sub(start))
						mu.Unlock()
					}()
				}
				tick.Stop()
				wg.Wait()
				reportLatencies(b, lat)
				b.ReportMetric(float64(len(lat))/window.Seconds(), "pages/s")
			}
		})
	}
}

// BenchmarkPaging_PostToFirstSMSRightAfterAText is PostToFirstSMS for a
// person who was texted a moment before (a verification code, say): the
// text goes out, and the page is posted as soon as it arrived. With the
// per-recipient limit at one a second, strict spacing made that page wait
// out the second; the limit's burst lets it go at once.
func BenchmarkPaging_PostToFirstSMSRightAfterAText(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	numbers := pagingCrowd(b, h, 300)
	next := 0
	page := func() time.Duration {
		i := next
		next++
		n := i % len(numbers)
		code := fmt.Sprintf("Your code is %06d", i)
		if status := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": numbers[n], "body": code}, nil); status != http.StatusAccepted {
			b.Fatalf("send the text before the page: %d", status)
		}
		h.waitText(numbers[n], code)
		summary := fmt.Sprintf("bench %d", i)
		start := time.Now()
		_, status := h.createPage(b, map[string]any{"target": fmt.Sprintf("user:u%d", n), "summary": summary, "escalate_after_seconds": 3600})
		if status != http.StatusAccepted {
			b.Fatalf("create page: %d", status)
		}
		return h.waitText(numbers[n], summary).Created.Sub(start)
	}
	for range 10 {
		page()
	}
	var lat []time.Duration
	for b.Loop() {
		lat = append(lat, page())
	}
	reportLatencies(b, lat)
}
