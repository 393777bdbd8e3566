package gateway_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/gateway"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

const (
	inbPublicURL = "https://klaxon.example.org"
	inbToken     = "inboundtoken0123"
	inbPaging    = "+15555550100"
)

// inbGateway is a gateway on a fresh database, served over real HTTP.
type inbGateway struct {
	srv *httptest.Server
	db  *testenv.DB
	g   *gateway.Gateway
}

// newInbGateway serves a gateway; with a nil Temporal client it gets a lazy
// client to nowhere, as when Temporal is down.
func newInbGateway(t testing.TB, tc client.Client, dispatcher func(*testenv.DB, client.Client) *gateway.Dispatcher) *inbGateway {
	t.Helper()
	db := testenv.Postgres(t)
	cfg := config.Defaults()
	cfg.PublicURL = inbPublicURL
	cfg.APIToken = "api-token"
	cfg.TwilioAccountSID = "ACtest"
	cfg.TwilioAuthToken = inbToken
	cfg.FromNumber = inbPaging
	if tc == nil {
		var err error
		if tc, err = client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"}); err != nil {
			t.Fatal(err)
		}
	}
	d := gateway.Deps{Config: cfg, Store: db.Store, Temporal: tc, Metrics: metrics.New(), Logger: slog.New(slog.DiscardHandler)}
	if dispatcher != nil {
		d.Inbound = dispatcher(db, tc)
	}
	g, err := gateway.New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return &inbGateway{srv: srv, db: db, g: g}
}

// textForm is the inbound-SMS webhook Twilio sends.
func textForm(sid, from, to, body string) url.Values {
	return url.Values{
		"MessageSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {"ACtest"},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"},
	}
}

type webhookAnswer struct {
	status      int
	contentType string
	body        string
}

// send posts a form to path, signed with token for the public URL (no
// signature when token is empty).
func (ig *inbGateway) send(t testing.TB, path string, form url.Values, token string) webhookAnswer {
	t.Helper()
	return ig.sendRaw(t, path, "application/x-www-form-urlencoded", form.Encode(), signature(token, path, form))
}

func signature(token, path string, form url.Values) string {
	if token == "" {
		return ""
	}
	return base64.StdEncoding.EncodeToString(gateway.Signature(token, inbPublicURL+path, form))
}

func (ig *inbGateway) sendRaw(t testing.TB, path, contentType, body, sig string) webhookAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ig.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if sig != "" {
		req.Header.Set("X-Twilio-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return webhookAnswer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(b)}
}

func (ig *inbGateway) events(t testing.TB) []store.InboundEvent {
	t.Helper()
	rows, err := ig.db.Pool.Query(context.Background(), `SELECT id FROM inbound_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []store.InboundEvent
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		e, err := ig.db.Store.InboundEventByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestInboundSMS_SignedTextIsStoredAndAnsweredWithEmptyTwiML(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	a := ig.send(t, "/twilio/sms", textForm("SM0001", "+1 (555) 555-0123", "+15555550100", "3a"), inbToken)
	if a.status != http.StatusOK || a.contentType != "text/xml" || !strings.Contains(a.body, "<Response></Response>") {
		t.Fatalf("answer = %+v, want 200 with empty TwiML", a)
	}
	evs := ig.events(t)
	if len(evs) != 1 {
		t.Fatalf("stored %d events, want 1", len(evs))
	}
	e := evs[0]
	if e.Kind != store.InboundSMS || e.DedupKey != "SM0001" || e.From != "+15555550123" || e.To != "+15555550100" ||
		e.Body != "3a" || e.HandedAt != nil || e.ProcessedAt != nil {
		t.Errorf("event = %+v", e)
	}
}

func TestInboundSMS_BadOrMissingSignatureIs403AndStoresNothing(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	form := textForm("SM0002", "+15555550123", "+15555550100", "hello")
	tests := []struct {
		name string
		sig  string
	}{
		{"missing", ""},
		{"another token", signature("sometoken0000000", "/twilio/sms", form)},
		{"another URL", base64.StdEncoding.EncodeToString(gateway.Signature(inbToken, ig.srv.URL+"/twilio/sms", form))},
		{"another body", signature(inbToken, "/twilio/sms", textForm("SM0002", "+15555550123", "+15555550100", "other"))},
		{"not base64", "%%%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ig.sendRaw(t, "/twilio/sms", "application/x-www-form-urlencoded", form.Encode(), tt.sig)
			if a.status != http.StatusForbidden {
				t.Errorf("status = %d, want 403", a.status)
			}
		})
	}
	if evs := ig.events(t); len(evs) != 0 {
		t.Errorf("stored %d events from unsigned requests", len(evs))
	}
}

func TestInboundSMS_SameMessageSidIsOneEvent(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	form := textForm("SM0003", "+15555550123", "+15555550100", "hello")
	for i := range 3 {
		if a := ig.send(t, "/twilio/sms", form, inbToken); a.status != http.StatusOK {
			t.Fatalf("delivery %d answered %+v", i+1, a)
		}
	}
	if evs := ig.events(t); len(evs) != 1 {
		t.Errorf("stored %d events for one MessageSid, want 1", len(evs))
	}
}

func TestInboundSMS_MalformedRequestsAreClear4xxAndStoreNothing(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	ok := textForm("SM0004", "+15555550123", "+15555550100", "hello")
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	without := func(keys ...string) url.Values {
		f := with("Body", "hello")
		for _, k := range keys {
			f.Del(k)
		}
		return f
	}
	tests := []struct {
		name    string
		form    url.Values
		status  int
		message string
	}{
		{"no MessageSid", without("MessageSid", "SmsMessageSid"), http.StatusBadRequest, "MessageSid is required."},
		{"MessageSid with symbols", with("MessageSid", "SM<script>"), http.StatusBadRequest, "MessageSid must be"},
		{"MessageSid too long", with("MessageSid", "SM"+strings.Repeat("a", 80)), http.StatusBadRequest, "MessageSid must be"},
		{"no From", with("From", ""), http.StatusBadRequest, "From is required."},
		{"From not a number", with("From", "abc"), http.StatusBadRequest, "From: 'abc' is not a valid phone number."},
		{"To too short", with("To", "+1555"), http.StatusBadRequest, "To: '+1555' is not a valid phone number"},
		{"body over 1600 characters", with("Body", strings.Repeat("é", 1601)), http.StatusBadRequest, "Body is 1601 characters long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ig.send(t, "/twilio/sms", tt.form, inbToken)
			if a.status != tt.status || !strings.Contains(a.body, tt.message) {
				t.Errorf("answer = %+v, want %d with %q", a, tt.status, tt.message)
			}
		})
	}
	t.Run("JSON body", func(t *testing.T) {
		a := ig.sendRaw(t, "/twilio/sms", "application/json", `{"MessageSid":"SM1"}`, "x")
		if a.status != http.StatusUnsupportedMediaType {
			t.Errorf("status = %d, want 415", a.status)
		}
	})
	t.Run("huge body", func(t *testing.T) {
		f := with("Body", strings.Repeat("x", 100<<10))
		a := ig.send(t, "/twilio/sms", f, inbToken)
		if a.status != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", a.status)
		}
	})
	t.Run("malformed form encoding", func(t *testing.T) {
		a := ig.sendRaw(t, "/twilio/sms", "application/x-www-form-urlencoded", "MessageSid=%zz", "x")
		if a.status != http.StatusBadRequest {
			t.Errorf("status = %d, want 400", a.status)
		}
	})
	if evs := ig.events(t); len(evs) != 0 {
		t.Errorf("stored %d events from malformed requests", len(evs))
	}
}

func TestInboundSMS_BodyIsMadeValidText(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	a := ig.send(t, "/twilio/sms", textForm("SM0005", "+15555550123", "+15555550100", "a\x00b\xffc"), inbToken)
	if a.status != http.StatusOK {
		t.Fatalf("answer = %+v", a)
	}
	if evs := ig.events(t); len(evs) != 1 || evs[0].Body != "ab\uFFFDc" {
		t.Fatalf("events = %+v, want the body without NUL and with invalid UTF-8 replaced", evs)
	}
}

func TestInboundCall_ShortSpokenMessageThenHangUp(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	tests := []struct {
		to   string
		want string
	}{
		// A caller the paging number does not know (dial-in reads known
		// callers their pages).
		{inbPaging, "You have reached the Klaxon paging number. It does not know the number you are calling from"},
		{"+15555550177", "You have reached Klaxon. This number takes text messages only."},
	}
	for _, tt := range tests {
		form := url.Values{"CallSid": {"CA1"}, "From": {"+15555550123"}, "To": {tt.to}, "Direction": {"inbound"}, "CallStatus": {"ringing"}}
		a := ig.send(t, "/twilio/voice", form, inbToken)
		if a.status != http.StatusOK || !strings.Contains(a.body, tt.want) || !strings.Contains(a.body, "<Hangup") {
			t.Errorf("call to %s answered %+v", tt.to, a)
		}
	}
}

// proxy forwards TCP connections to target while up, and refuses them
// while down: Temporal going away and coming back.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	up     bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.setUp(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			up := p.up
			p.mu.Unlock()
			if !up {
				_ = c.Close()
				continue
			}
			go p.forward(c)
		}
	}()
	return p
}

func (p *proxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, s)
	p.mu.Unlock()
	go func() { _, _ = io.Copy(s, c); _ = s.Close() }()
	_, _ = io.Copy(c, s)
	_ = c.Close()
}

func (p *proxy) setUp(up bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = up
	if !up {
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.conns = nil
	}
}

func TestDispatcher_EventsWaitWhileTemporalIsDownAndDrainInOrder(t *testing.T) {
	addr := testenv.Temporal(t)
	p := newProxy(t, addr)
	tc, err := client.NewLazyClient(client.Options{HostPort: p.ln.Addr().String(), Logger: nil})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.Close)
	queue := testenv.TaskQueue(t)
	var disp *gateway.Dispatcher
	ig := newInbGateway(t, tc, func(db *testenv.DB, c client.Client) *gateway.Dispatcher {
		disp = gateway.NewDispatcher(gateway.DispatcherOptions{Store: db.Store, Temporal: c, TaskQueue: queue, SweepEvery: 200 * time.Millisecond})
		return disp
	})
	runDispatcher(t, disp)

	// Temporal is down: texts are taken all the same, fast.
	run := fmt.Sprint(time.Now().UnixNano())
	var sids []string
	for i := range 20 {
		sid := fmt.Sprintf("SM%s%03d", run, i)
		sids = append(sids, sid)
		from := fmt.Sprintf("+1555555%04d", i%3)
		start := time.Now()
		if a := ig.send(t, "/twilio/sms", textForm(sid, from, inbPaging, "hello"), inbToken); a.status != http.StatusOK {
			t.Fatalf("text %d answered %+v while Temporal is down", i, a)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("text %d took %v to answer while Temporal is down", i, d)
		}
	}
	time.Sleep(time.Second)
	for _, e := range ig.events(t) {
		if e.HandedAt != nil {
			t.Fatalf("event %d handed while Temporal is down", e.ID)
		}
	}

	// Temporal is back: the backlog drains by itself.
	p.setUp(true)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := ig.db.Store.CountInbound(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.Unhanded == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events still not handed a minute after Temporal came back", c.Unhanded, c.Total)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Every event has its workflow, once, with its search attributes; and
	// each sender's were handed in arrival order.
	evs := ig.events(t)
	lastHanded := map[string]time.Time{}
	direct := testenv.TemporalClient(t)
	for i, e := range evs {
		if e.DedupKey != sids[i] {
			t.Fatalf("event %d is %s, want %s", i, e.DedupKey, sids[i])
		}
		if prev, ok := lastHanded[e.From]; ok && e.HandedAt.Before(prev) {
			t.Errorf("event %d of %s was handed before an earlier one", e.ID, e.From)
		}
		lastHanded[e.From] = *e.HandedAt
		desc, err := direct.DescribeWorkflowExecution(context.Background(), workflows.InboundWorkflowID(e.DedupKey), "")
		if err != nil {
			t.Fatalf("no workflow for event %d: %v", e.ID, err)
		}
		if desc.GetWorkflowExecutionInfo().GetType().GetName() != workflows.WorkflowInbound {
			t.Errorf("workflow type = %s", desc.GetWorkflowExecutionInfo().GetType().GetName())
		}
		sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
		if string(sa["KlaxonKind"].GetData()) != `"inbound"` || string(sa["KlaxonRef"].GetData()) != fmt.Sprintf(`"%d"`, e.ID) {
			t.Errorf("search attributes = %v", sa)
		}
	}
}

// runDispatcher runs d until the test ends, as `klaxon serve` does under its
// supervisor.
func runDispatcher(tb testing.TB, d *gateway.Dispatcher) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("dispatcher stopped with: %v", err)
		}
	})
}

func TestDialIn_DatabaseDownGetsASpokenApologyNotSilence(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	ig.db.Pool.Close() // Postgres is gone
	form := url.Values{"CallSid": {"CA2"}, "From": {"+15555550123"}, "To": {inbPaging}, "Direction": {"inbound"}, "CallStatus": {"ringing"}}
	a := ig.send(t, "/twilio/voice", form, inbToken)
	if a.status != http.StatusOK || !strings.Contains(a.body, "cannot read your pages right now") || !strings.Contains(a.body, "<Hangup") {
		t.Errorf("dial-in with the database down answered %+v", a)
	}
}

func TestAPIToken_WrongDevTokenSaysWhereTheCurrentOneIs(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	for _, tc := range []struct{ auth, want string }{
		{"", "A valid API token is required"},
		{"Bearer dev-0123", "api-token"},
		{"Bearer nope", "is not this server's KLAXON_API_TOKEN"},
	} {
		req, _ := http.NewRequest(http.MethodGet, ig.srv.URL+"/api/v1/users", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), tc.want) {
			t.Errorf("%q: %d %s, want 401 saying %q", tc.auth, resp.StatusCode, body, tc.want)
		}
	}
}
