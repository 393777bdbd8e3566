package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon/gateway"
	"github.com/klaxonhq/klaxon/internal/testenv"
)

// webhookLoad is a prepared inbound text: its form body and signature.
type webhookLoad struct {
	body, sig string
}

// loadTexts prepares n distinct signed inbound texts from 100 senders, so
// the benchmark measures the gateway, not the signing.
func loadTexts(n int, run string) []webhookLoad {
	out := make([]webhookLoad, n)
	for i := range out {
		form := textForm(fmt.Sprintf("SM%s%08d", run, i), fmt.Sprintf("+1555557%04d", i%100), inbPaging, "3a")
		out[i] = webhookLoad{body: form.Encode(), sig: signature(inbToken, "/twilio/sms", form)}
	}
	return out
}

// runWebhookLoad posts the prepared texts from `clients` concurrent
// keep-alive clients and reports requests per second and latency
// percentiles.
func runWebhookLoad(b *testing.B, ig *inbGateway, clients int) {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	run := fmt.Sprint(time.Now().UnixNano())
	warm := loadTexts(clients*4, run+"w")
	texts := loadTexts(b.N, run)
	post := func(t webhookLoad) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, ig.srv.URL+"/twilio/sms", strings.NewReader(t.body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", t.sig)
		start := time.Now()
		resp, err := hc.Do(req)
		if err != nil {
			b.Error(err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			b.Errorf("status %d", resp.StatusCode)
		}
		return d
	}
	var wg sync.WaitGroup
	for _, t := range warm {
		wg.Go(func() { post(t) })
	}
	wg.Wait()

	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				lat[i] = post(texts[i])
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	c, err := ig.db.Store.CountInbound(context.Background())
	if err != nil || c.Total != int64(b.N+len(warm)) {
		b.Fatalf("stored %+v, %v; want %d events", c, err, b.N+len(warm))
	}
}

// BenchmarkInboundWebhook measures /twilio/sms over real HTTP with 4 to 32
// concurrent keep-alive clients (on the same two cores as the server): the signature check, form validation and
// the durable, deduplicating insert into the real Postgres, answered with
// empty TwiML. Temporal is unreachable, as the webhook must never wait for it.
//
//	go test ./gateway -run '^$' -bench BenchmarkInboundWebhook -benchtime 20000x
func BenchmarkInboundWebhook(b *testing.B) {
	for _, clients := range []int{4, 8, 16, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			ig := newInbGateway(b, nil, nil)
			runWebhookLoad(b, ig, clients)
		})
	}
}

// BenchmarkInboundWebhook_WithDispatcher is the load of 16 clients with the
// dispatcher handing every text to a real Temporal dev server on the same
// two cores (no worker), as in `klaxon serve`.
func BenchmarkInboundWebhook_WithDispatcher(b *testing.B) {
	tc := testenv.TemporalClient(b)
	queue := testenv.TaskQueue(b)
	var disp *gateway.Dispatcher
	ig := newInbGateway(b, tc, func(db *testenv.DB, c client.Client) *gateway.Dispatcher {
		disp = gateway.NewDispatcher(gateway.DispatcherOptions{Store: db.Store, Temporal: c, TaskQueue: queue})
		return disp
	})
	runDispatcher(b, disp)
	runWebhookLoad(b, ig, 16)
	b.StopTimer()
	// How long the hand-off backlog takes to drain after the load.
	start := time.Now()
	for {
		c, err := ig.db.Store.CountInbound(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if c.Unhanded == 0 {
			break
		}
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("hand-off backlog not drained: %+v", c)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.ReportMetric(time.Since(start).Seconds(), "drain-s")
}
