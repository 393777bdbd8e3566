package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Numbers the harness gives Klaxon; the simulator owns them.
const (
	hPagingNumber      = "+15555550100"
	hSignupNumber      = "+15555550101"
	hDiagnosticsNumber = "+15555550102"
	hMaintainer        = "+15555550199"
	hToken             = "test-token"
)

// harnessOptions tune a harness.
type harnessOptions struct {
	// Env overrides or adds environment variables (KLAXON_SEND_RATE, ...).
	Env map[string]string
	// SplitWorker runs the worker as a separate app (as `klaxon worker`
	// would), so a test can stop and start it while the gateway runs.
	SplitWorker bool
}

// harness is the whole of Klaxon in-process, on real parts: a fresh
// Postgres database, the shared Temporal dev server, the phone simulator
// over HTTP, the SMTP mail sink, the gateway on a real port, and a worker.
type harness struct {
	t       testing.TB
	cfg     config.Config
	baseURL string
	sim     *simulator.Simulator
	simURL  string
	sink    *mailsink.Sink
	db      *testenv.DB
	store   *store.Store
	// temporal is a client of the dev server, for tests that inspect
	// workflows.
	temporal client.Client

	// app is the Klaxon the harness runs (gateway and, unless split, worker).
	app *app

	mu           sync.Mutex
	stopWorkerFn func()
}

func newHarness(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t}
	h.db = testenv.Postgres(t)
	h.store = h.db.Store
	temporalAddr := testenv.Temporal(t)
	h.temporal = testenv.TemporalClient(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	h.baseURL = "http://" + ln.Addr().String()

	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen smtp: %v", err)
	}
	h.sink = mailsink.New(testenv.Logger(t))
	go func() { _ = h.sink.Serve(sinkLn) }()
	t.Cleanup(func() { _ = h.sink.Close() })

	const sid, authToken = "ACtest00000000000000000000000000aa", "testauthtoken0123456789"
	h.sim = simulator.New(simulator.Config{
		AccountSID: sid, AuthToken: authToken,
		InboundURL: h.baseURL + "/twilio/sms", Logger: testenv.Logger(t),
		InboundVoiceURL: h.baseURL + "/twilio/voice", InboundVoiceStatusURL: h.baseURL + "/twilio/voice/status",
		WordTime: time.Microsecond,
	})
	simSrv := httptest.NewServer(h.sim.Handler())
	h.simURL = simSrv.URL
	t.Cleanup(func() {
		h.sim.Close()
		simSrv.Close()
	})
	for _, n := range []string{hPagingNumber, hSignupNumber, hDiagnosticsNumber} {
		h.sim.AddIncomingNumber(n, h.baseURL+"/twilio/sms")
	}

	env := map[string]string{
		"DATABASE_URL":              h.db.URL,
		"TEMPORAL_ADDRESS":          temporalAddr,
		"KLAXON_TASK_QUEUE":         testenv.TaskQueue(t),
		"KLAXON_HTTP_ADDR":          ln.Addr().String(),
		"KLAXON_PUBLIC_URL":         h.baseURL,
		"KLAXON_API_URL":            h.baseURL,
		"KLAXON_API_TOKEN":          hToken,
		"TWILIO_ACCOUNT_SID":        sid,
		"TWILIO_AUTH_TOKEN":         authToken,
		"KLAXON_TWILIO_API_URL":     simSrv.URL,
		"KLAXON_FROM_NUMBER":        hPagingNumber,
		"KLAXON_SIGNUP_NUMBER":      hSignupNumber,
		"KLAXON_DIAGNOSTICS_NUMBER": hDiagnosticsNumber,
		"KLAXON_MAINTAINERS":        hMaintainer,
		"KLAXON_SMTP_URL":           "smtp://" + sinkLn.Addr().String() + "?tls=none",
		"KLAXON_SEND_RATE":          "0",
		"KLAXON_LOG_LEVEL":          "warn",
	}
	for k, v := range opts.Env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("harness config: %v", err)
	}
	h.cfg = cfg

	logger := testenv.Logger(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := roles{worker: !opts.SplitWorker, gateway: true, migrate: true}
	a, err := openApp(ctx, cfg, logger, r)
	if err != nil {
		cancel()
		t.Fatalf("open klaxon: %v", err)
	}
	a.listener = ln
	h.app = a
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	t.Cleanup(func() {
		h.stopWorker()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("klaxon stopped with: %v", err)
		}
		a.close()
	})
	if opts.SplitWorker {
		h.startWorker()
	}
	h.waitHealthy()
	// Registered last, so it runs first: while the app, Temporal and
	// Postgres are all still there.
	t.Cleanup(h.checkPayloadPrivacy)
	return h
}

// startWorker starts a separate worker app (SplitWorker harnesses only).
func (h *harness) startWorker() {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopWorkerFn != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := openApp(ctx, h.cfg, testenv.Logger(h.t), roles{worker: true})
	if err != nil {
		cancel()
		h.t.Fatalf("open worker: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	h.stopWorkerFn = func() {
		cancel()
		<-done
		a.close()
	}
}

// stopWorker stops the separate worker app, as a killed `klaxon worker`.
func (h *harness) stopWorker() {
	h.mu.Lock()
	stop := h.stopWorkerFn
	h.stopWorkerFn = nil
	h.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (h *harness) waitHealthy() {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(h.baseURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("klaxon did not become healthy: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// api calls the REST API with the token and decodes the JSON answer into
// out (when not nil). It returns the HTTP status.
func (h *harness) api(method, path string, body, out any) int {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			h.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.baseURL+path, rd)
	if err != nil {
		h.t.Fatalf("request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+hToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// text sends an SMS from a phone to one of Klaxon's numbers through the
// simulator (a signed webhook), failing the test on a non-2xx answer.
func (h *harness) text(from, to, body string) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sid, err := h.sim.SendSMS(ctx, from, to, body)
	if err != nil {
		h.t.Fatalf("text %s: %v", to, err)
	}
	return sid
}

// waitSMS waits up to 30 s for a text to `to` that match accepts.
func (h *harness) waitSMS(to string, match func(simulator.Message) bool) simulator.Message {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := h.sim.WaitMessage(ctx, to, match)
	if err != nil {
		h.t.Fatalf("no matching text to %s: %v (inbox: %+v)", to, err, h.sim.Inbox(to))
	}
	return m
}

// waitText waits for a text to `to` whose body contains substr.
func (h *harness) waitText(to, substr string) simulator.Message {
	h.t.Helper()
	return h.waitSMS(to, func(m simulator.Message) bool { return strings.Contains(m.Body, substr) })
}

// waitMail waits up to 30 s for a mail to `to` that match accepts.
func (h *harness) waitMail(to string, match func(mailsink.Mail) bool) mailsink.Mail {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := h.sink.Wait(ctx, to, match)
	if err != nil {
		h.t.Fatalf("no matching mail to %s: %v", to, err)
	}
	return m
}

// eventually polls cond until it holds or 30 s pass.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countTexts returns how many texts to a number contain substr.
func countTexts(h *harness, to, substr string) int {
	n := 0
	for _, m := range h.sim.Inbox(to) {
		if strings.Contains(m.Body, substr) {
			n++
		}
	}
	return n
}
