package simulator_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	klaxonNum = "+14155550100"
	alice     = "+15555550123"
)

// env is a simulator served over real HTTP, a twilio-go client pointed at
// it, and a server standing in for Klaxon's webhooks.
type env struct {
	sim   *simulator.Simulator
	url   string
	api   *openapi.ApiService
	hooks *hookServer
}

// newEnv starts a simulator, its server and a webhook server.
func newEnv(t testing.TB) *env {
	t.Helper()
	hooks := newHookServer(t, testToken)
	sim := simulator.New(simulator.Config{
		AccountSID: testSID,
		AuthToken:  testToken,
		InboundURL: hooks.URL + "/twilio/sms",
	})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close) // runs first: stops webhooks before the servers go
	return &env{sim: sim, url: srv.URL, api: twilioAPI(t, srv.URL, testSID, testToken), hooks: hooks}
}

// rewrite sends requests for api.twilio.com to the simulator instead, as
// Klaxon's Twilio provider does.
type rewrite struct{ target *url.URL }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme = rw.target.Scheme
	r.URL.Host = rw.target.Host
	r.Host = rw.target.Host
	return http.DefaultTransport.RoundTrip(r)
}

// twilioAPI returns an unmodified twilio-go API client whose requests reach
// baseURL.
func twilioAPI(t testing.TB, baseURL, sid, token string) *openapi.ApiService {
	t.Helper()
	target, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient:  &http.Client{Transport: rewrite{target}, Timeout: 10 * time.Second},
	}
	c.SetAccountSid(sid)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: c}).Api
}

// hookRequest is one webhook the simulator sent.
type hookRequest struct {
	Path string
	Form url.Values
}

// hookServer stands in for Klaxon's webhooks: it checks every request's
// signature with twilio-go's RequestValidator, records it, and answers with
// the route's TwiML.
type hookServer struct {
	*httptest.Server
	mu      sync.Mutex
	got     []hookRequest
	changed chan struct{}
	routes  map[string]func(url.Values) (int, string)
}

func newHookServer(t testing.TB, token string) *hookServer {
	t.Helper()
	h := &hookServer{changed: make(chan struct{}), routes: map[string]func(url.Values) (int, string){}}
	validator := client.NewRequestValidator(token)
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		full := h.URL + r.URL.RequestURI()
		sig := r.Header.Get("X-Twilio-Signature")
		var form url.Values
		var valid bool
		if r.Method == http.MethodGet {
			form = r.URL.Query()
			valid = validator.Validate(full, map[string]string{}, sig)
		} else {
			form, _ = url.ParseQuery(string(body))
			valid = validator.ValidateBody(full, body, sig)
		}
		if !valid {
			t.Errorf("webhook %s %s: signature %q does not validate", r.Method, r.URL.Path, sig)
			w.WriteHeader(http.StatusForbidden)
			return
		}
		h.mu.Lock()
		h.got = append(h.got, hookRequest{Path: r.URL.Path, Form: form})
		route := h.routes[r.URL.Path]
		close(h.changed)
		h.changed = make(chan struct{})
		h.mu.Unlock()
		status, answer := http.StatusOK, "<Response/>"
		if route != nil {
			status, answer = route(form)
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(h.Close)
	return h
}

// handle answers requests to path with fn's status and body.
func (h *hookServer) handle(path string, fn func(url.Values) (int, string)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.routes[path] = fn
}

// twiml answers requests to path with a fixed TwiML document.
func (h *hookServer) twiml(path, doc string) {
	h.handle(path, func(url.Values) (int, string) { return http.StatusOK, doc })
}

// requests returns the webhooks received at path so far, in order.
func (h *hookServer) requests(path string) []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookRequest
	for _, r := range h.got {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// waitFor blocks until done reports true of the webhooks received at path.
func (h *hookServer) waitFor(t testing.TB, path string, done func([]hookRequest) bool) []hookRequest {
	t.Helper()
	// The deadline only turns a hang into a clear failure.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		h.mu.Lock()
		changed := h.changed
		h.mu.Unlock()
		if got := h.requests(path); done(got) {
			return got
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("webhooks to %s: %v; got %v", path, ctx.Err(), h.requests(path))
		}
	}
}

// waitN waits for n webhooks at path.
func (h *hookServer) waitN(t testing.TB, path string, n int) []hookRequest {
	t.Helper()
	return h.waitFor(t, path, func(got []hookRequest) bool { return len(got) >= n })
}

// field returns the values of one form field across requests.
func field(reqs []hookRequest, name string) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, r.Form.Get(name))
	}
	return out
}
