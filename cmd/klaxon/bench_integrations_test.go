package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/gateway"
)

// BenchmarkAlertmanager_PostToFirstSMS measures the time from an
// Alertmanager notification posted to a service's webhook to the
// simulator receiving the Twilio API call of the on-call person's first
// text, one new alert group at a time.
func BenchmarkAlertmanager_PostToFirstSMS(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	numbers := pagingCrowd(b, h, 200)
	keys := make([]string, len(numbers))
	for i := range numbers {
		var s serviceJSON
		if code := h.api(http.MethodPost, "/api/v1/services", map[string]string{"name": fmt.Sprintf("svc%d", i), "target": fmt.Sprintf("user:u%d", i)}, &s); code != http.StatusCreated {
			b.Fatalf("service: %d", code)
		}
		keys[i] = s.Key
	}
	i := 0
	fire := func() time.Duration {
		n := i % len(numbers)
		name := fmt.Sprintf("Bench%d", i)
		i++
		body := strings.ReplaceAll(amPayload(name, "firing", 1), "DiskFull", name)
		start := time.Now()
		resp, err := http.Post(h.baseURL+"/api/v1/integrations/"+keys[n]+"/alertmanager", "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusAccepted {
			b.Fatalf("post: %v %v", err, resp)
		}
		_ = resp.Body.Close()
		return h.waitText(numbers[n], name).Created.Sub(start)
	}
	for range 20 {
		fire()
	}
	var lat []time.Duration
	for b.Loop() {
		lat = append(lat, fire())
	}
	reportLatencies(b, lat)
}

// BenchmarkAlertmanager_Intake measures how fast notifications are taken:
// one group of 1,000 alerts notified 1,000 times over (each joins the
// one page), and 1,000 groups (each opens its page), eight monitors at
// once. It reports notifications per second and the pages created.
func BenchmarkAlertmanager_Intake(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	pagingPerson(b, h, "oncall", "+15556009999", "")
	var s serviceJSON
	if code := h.api(http.MethodPost, "/api/v1/services", map[string]string{"name": "big", "target": "user:oncall"}, &s); code != http.StatusCreated {
		b.Fatalf("service: %d", code)
	}
	url := h.baseURL + "/api/v1/integrations/" + s.Key + "/alertmanager"
	post := func(body string) int {
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	run := func(b *testing.B, n int, body func(i int) string) {
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range 8 {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if code := post(body(i)); code/100 != 2 {
						b.Errorf("notification %d: %d", i, code)
					}
				}
			})
		}
		wg.Wait()
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "notifications/s")
	}
	pagesBefore := func() int {
		var n int
		if err := h.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pages`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	b.Run("one-group-1000-alerts", func(b *testing.B) {
		group := amPayload("{}:{alertname=\"Big\"}", "firing", 1000)
		for b.Loop() {
			before := pagesBefore()
			run(b, 1000, func(int) string { return group })
			b.ReportMetric(float64(pagesBefore()-before), "pages")
		}
	})
	round := 0
	b.Run("1000-groups", func(b *testing.B) {
		for b.Loop() {
			before := pagesBefore()
			r := round
			round++
			run(b, 1000, func(i int) string { return amPayload(fmt.Sprintf("r%d-g%d", r, i), "firing", 1) })
			b.ReportMetric(float64(pagesBefore()-before), "pages")
		}
	})
}

// BenchmarkDialIn_AnswerTime measures the voice webhook of a call to the
// paging number: signature, the caller and their open pages looked up,
// TwiML answered.
func BenchmarkDialIn_AnswerTime(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	const caller = "+15556008888"
	pagingPerson(b, h, "caller", caller, "")
	for i := range 5 {
		h.createPage(b, map[string]any{"target": "user:caller", "summary": fmt.Sprintf("open page %d", i), "escalate_after_seconds": 3600})
		h.waitText(caller, fmt.Sprintf("open page %d", i))
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		i++
		form := map[string]string{"CallSid": fmt.Sprintf("CA%032d", i), "From": caller, "To": hPagingNumber, "Direction": "inbound", "CallStatus": "ringing"}
		start := time.Now()
		code, body := h.signedPost("/twilio/voice", form)
		lat = append(lat, time.Since(start))
		if code != http.StatusOK || !strings.Contains(body, "You have 5 open pages") {
			b.Fatalf("dial-in answered %d %s", code, body)
		}
	}
	reportLatencies(b, lat)
}

// signedPost posts a form to a Twilio webhook route with a valid
// signature, and returns the status and body.
func (h *harness) signedPost(path string, fields map[string]string) (int, string) {
	h.t.Helper()
	form := url.Values{"AccountSid": {h.cfg.TwilioAccountSID}}
	for k, v := range fields {
		form.Set(k, v)
	}
	req, _ := http.NewRequest(http.MethodPost, h.baseURL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(
		gateway.Signature(h.cfg.TwilioAuthToken.Value(), h.cfg.PublicURL+path, form)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
