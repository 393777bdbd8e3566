package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxonhq/klaxon/paging"
)

// BenchmarkConsole_PagesList1000Open measures the console's pages list
// with 1,000 open pages (every one listed): over HTTP on loopback, the time
// to the first byte and to the last (the server's time, plus a loopback
// round trip), and in headless Chromium, navigation start to the load
// event (the whole render).
func BenchmarkConsole_PagesList1000Open(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	ctx := context.Background()
	u := pagingPerson(b, h, "bench", "+15555550131", "")
	for i := range 1000 {
		if _, _, err := h.store.CreatePage(ctx, paging.Page{Target: "user:bench", Summary: fmt.Sprintf("bench page %d: disk full on db-%d", i, i%17)}); err != nil {
			b.Fatal(err)
		}
	}
	c := consoleClient(b)
	sessionFor(b, h, c, u.ID, time.Now().Add(time.Hour))
	get := func() (ttfb, full time.Duration, size int) {
		var first time.Time
		req, _ := http.NewRequest(http.MethodGet, h.baseURL+"/pages", nil)
		req = req.WithContext(httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotFirstResponseByte: func() { first = time.Now() }}))
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		full = time.Since(start)
		if err != nil || resp.StatusCode != http.StatusOK || strings.Count(string(body), `<li class="page status-open">`) != 1000 {
			b.Fatalf("pages list: %d, %d bytes, %v", resp.StatusCode, len(body), err)
		}
		return first.Sub(start), full, len(body)
	}
	for range 20 {
		get()
	}
	b.Run("http", func(b *testing.B) {
		var ttfb, full []time.Duration
		size := 0
		for b.Loop() {
			t, f, n := get()
			ttfb, full, size = append(ttfb, t), append(full, f), n
		}
		slices.Sort(ttfb)
		slices.Sort(full)
		b.ReportMetric(float64(percentile(ttfb, 50).Microseconds())/1000, "ttfb-p50-ms")
		b.ReportMetric(float64(percentile(ttfb, 99).Microseconds())/1000, "ttfb-p99-ms")
		b.ReportMetric(float64(percentile(full, 50).Microseconds())/1000, "full-p50-ms")
		b.ReportMetric(float64(percentile(full, 99).Microseconds())/1000, "full-p99-ms")
		b.ReportMetric(float64(size)/1024, "KiB")
	})
	b.Run("chromium", func(b *testing.B) {
		bctx := newBrowser(b, 412, 915)
		signInInBrowser(b, h, bctx, "bench", "+15555550131", 1)
		var render []time.Duration
		for b.Loop() {
			browse(b, bctx, "load the list", chromedp.Navigate(h.baseURL+"/pages"), chromedp.WaitVisible(chromedp.CSS("ul.pages")))
			ms, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`(() => { const n = performance.getEntriesByType("navigation")[0]; return n.loadEventEnd - n.startTime; })()`))
			if err != nil {
				b.Fatal(err)
			}
			render = append(render, time.Duration(ms*float64(time.Millisecond)))
		}
		slices.Sort(render)
		b.ReportMetric(float64(percentile(render, 50).Microseconds())/1000, "load-p50-ms")
		b.ReportMetric(float64(percentile(render, 99).Microseconds())/1000, "load-p99-ms")
	})
}

// BenchmarkConsole_AckButtonToCanceled measures the console's Acknowledge
// button: in headless Chromium from the click to the answer on screen, and
// as the bare form POST from the click's request to the console's answer.
// The console answers once the page's workflow has taken the ack, canceled
// every pending notification (the call due at 2 minutes, the email at 5)
// and written the ack. Each iteration pages another person and waits for
// the first text first; afterwards no call may have come.
func BenchmarkConsole_AckButtonToCanceled(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	numbers := pagingCrowd(b, h, 200)
	ctx := context.Background()
	i := 0
	openPage := func() int64 {
		n := i % len(numbers)
		summary := fmt.Sprintf("ack bench %d", i)
		i++
		id, code := h.createPage(b, map[string]any{"target": fmt.Sprintf("user:u%d", n), "summary": summary})
		if code != http.StatusAccepted {
			b.Fatalf("create page: %d", code)
		}
		h.waitText(numbers[n], summary)
		return id
	}
	acked := func(id int64) {
		if p, err := h.store.GetPage(ctx, id); err != nil || p.Status != paging.StatusAcked {
			b.Fatalf("page %d after the ack: %+v %v", id, p, err)
		}
	}
	b.Run("chromium", func(b *testing.B) {
		bctx := newBrowser(b, 412, 915)
		signInInBrowser(b, h, bctx, "u0", numbers[0], 1)
		var lat []time.Duration
		for b.Loop() {
			id := openPage()
			browse(b, bctx, "open the page", chromedp.Navigate(fmt.Sprintf("%s/pages/%d", h.baseURL, id)), chromedp.WaitVisible(chromedp.ID("ack")))
			start := time.Now()
			browse(b, bctx, "acknowledge", chromedp.Click(chromedp.ID("ack")), chromedp.WaitVisible(chromedp.CSS(".flash")))
			lat = append(lat, time.Since(start))
			acked(id)
		}
		reportLatencies(b, lat)
	})
	b.Run("form-post", func(b *testing.B) {
		c := consoleClient(b)
		u := mustUser(b, h, "u1")
		csrf := sessionFor(b, h, c, u.ID, time.Now().Add(time.Hour))
		var lat []time.Duration
		for b.Loop() {
			id := openPage()
			start := time.Now()
			resp, err := c.PostForm(fmt.Sprintf("%s/pages/%d/ack", h.baseURL, id), url.Values{"csrf": {csrf}})
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			lat = append(lat, time.Since(start))
			if resp.StatusCode != http.StatusSeeOther {
				b.Fatalf("ack form: %d", resp.StatusCode)
			}
			acked(id)
		}
		reportLatencies(b, lat)
	})
	b.Run("api-for-comparison", func(b *testing.B) {
		var lat []time.Duration
		for b.Loop() {
			id := openPage()
			start := time.Now()
			if code := h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/ack", id), nil, nil); code != http.StatusOK {
				b.Fatalf("ack: %d", code)
			}
			lat = append(lat, time.Since(start))
			acked(id)
		}
		reportLatencies(b, lat)
	})
	calls := 0
	for _, n := range numbers {
		calls += len(h.sim.Calls(n))
	}
	if calls != 0 {
		b.Errorf("%d calls came after their pages were acknowledged", calls)
	}
}
