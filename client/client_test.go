package client_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/client"
)

// flaky is an API whose first drops answers are a dropped connection, as
// when the server's write timeout cuts a long answer; it records every
// attempt's idempotency key and body.
type flaky struct {
	mu       sync.Mutex
	drops    int
	status   int
	answer   any
	keys     []string
	bodies   []string
	attempts int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.attempts++
	f.keys = append(f.keys, r.Header.Get("Idempotency-Key"))
	f.bodies = append(f.bodies, string(body))
	drop := f.attempts <= f.drops
	f.mu.Unlock()
	if drop {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.status)
	_ = json.NewEncoder(w).Encode(f.answer)
}

func newClient(t *testing.T, h http.Handler) *client.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, "token", client.WithRetries(3, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClient_ChannelCreateRetriesWithOneRequestID(t *testing.T) {
	f := &flaky{drops: 2, status: http.StatusCreated, answer: api.ChannelCreated{Phone: "+15550001111", ID: 7}}
	c := newClient(t, f)
	out, err := c.CreateChannel(t.Context(), api.CreateChannelRequest{Admins: []string{"+15550002222"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Phone != "+15550001111" {
		t.Errorf("phone %q", out.Phone)
	}
	if f.attempts != 3 {
		t.Fatalf("%d attempts, want 3", f.attempts)
	}
	for i, k := range f.keys {
		if k == "" || k != f.keys[0] {
			t.Errorf("attempt %d: Idempotency-Key %q, first was %q", i+1, k, f.keys[0])
		}
		var req api.CreateChannelRequest
		if err := json.Unmarshal([]byte(f.bodies[i]), &req); err != nil || req.RequestID != f.keys[0] {
			t.Errorf("attempt %d: request_id %q, want the header's %q", i+1, req.RequestID, f.keys[0])
		}
	}
}

func TestClient_ProvisionKeepsTheCallersRequestID(t *testing.T) {
	f := &flaky{drops: 1, status: http.StatusCreated, answer: api.ProvisionResult{Bought: []string{"+15550003333"}}}
	c := newClient(t, f)
	if _, err := c.Provision(t.Context(), api.ProvisionRequest{Count: 1, RequestID: "mine-1"}); err != nil {
		t.Fatal(err)
	}
	if len(f.keys) != 2 || f.keys[0] != "mine-1" || f.keys[1] != "mine-1" {
		t.Errorf("keys %q, want mine-1 twice", f.keys)
	}
}

func TestClient_GatewayTimeoutIsRetried(t *testing.T) {
	var calls atomic.Int32
	c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(api.Error{Error: "The channel request could not be completed in time."})
			return
		}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(api.ChannelCreated{Phone: "+15550004444"})
	}))
	out, err := c.CreateChannel(t.Context(), api.CreateChannelRequest{Admins: []string{"+15550002222"}})
	if err != nil || out.Phone != "+15550004444" || calls.Load() != 2 {
		t.Fatalf("phone %q, err %v, after %d calls", out.Phone, err, calls.Load())
	}
}

func TestClient_PageWithoutDedupKeyIsSentOnce(t *testing.T) {
	f := &flaky{drops: 5, status: http.StatusAccepted, answer: api.PageCreated{ID: 1}}
	c := newClient(t, f)
	if _, err := c.CreatePage(t.Context(), api.CreatePageRequest{Target: "user:alice", Summary: "x"}); err == nil {
		t.Fatal("a dropped connection was not an error")
	}
	if f.attempts != 1 {
		t.Errorf("%d attempts: a page with no dedup key could be sent twice", f.attempts)
	}
}

func TestClient_MessageIsSentOnce(t *testing.T) {
	f := &flaky{drops: 5, status: http.StatusAccepted, answer: api.MessageCreated{ID: "m"}}
	c := newClient(t, f)
	if _, err := c.SendMessage(t.Context(), api.CreateMessageRequest{Channel: "sms", To: "+15550001111", Body: "hi"}); err == nil {
		t.Fatal("a dropped connection was not an error")
	}
	if f.attempts != 1 {
		t.Errorf("%d attempts: a message could be sent twice", f.attempts)
	}
}

func TestClient_ErrorsCarryStatusAndSentence(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"sentence", http.StatusUnprocessableEntity, `{"error":"That code is not valid."}`, "That code is not valid."},
		{"no body", http.StatusBadGateway, ``, "the API answered 502 Bad Gateway"},
		{"not json", http.StatusNotFound, `<html>nope</html>`, "the API answered 404 Not Found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			_, err := c.VerifyContact(t.Context(), 1, "123456")
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *client.Error", err, err)
			}
			if e.Status != tc.status || e.Error() != tc.want || client.StatusOf(err) != tc.status {
				t.Errorf("status %d, %q; want %d, %q", e.Status, e.Error(), tc.status, tc.want)
			}
		})
	}
}

func TestClient_NewRefusesABadURLOrNoToken(t *testing.T) {
	for _, tc := range []struct{ url, token string }{{"localhost:8080", "t"}, {"ftp://x", "t"}, {"http://x", ""}} {
		if _, err := client.New(tc.url, tc.token); err == nil {
			t.Errorf("New(%q, %q) accepted", tc.url, tc.token)
		}
	}
}

// A long request the server answers 202 (still running, with where to
// poll) is polled at its Location until its answer comes: the client
// never starts the work a second time.
func TestClient_AcceptedLongRequestIsPolledUntilItsAnswer(t *testing.T) {
	var posts, polls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/numbers/provision", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.Header().Set("Location", "/api/v1/numbers/provision/"+r.Header.Get("Idempotency-Key"))
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(api.Pending{RequestID: "x", Status: "pending", Location: "/api/v1/numbers/provision/" + r.Header.Get("Idempotency-Key")})
	})
	mux.HandleFunc("GET /api/v1/numbers/provision/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "mine-2" {
			http.Error(w, "wrong id", http.StatusNotFound)
			return
		}
		if polls.Add(1) < 3 {
			w.WriteHeader(http.StatusAccepted)
			_ = json.NewEncoder(w).Encode(api.Pending{Status: "pending"})
			return
		}
		_ = json.NewEncoder(w).Encode(api.ProvisionResult{Bought: []string{"+15550003333"}})
	})
	c := newClient(t, mux)
	out, err := c.Provision(t.Context(), api.ProvisionRequest{Count: 50, RequestID: "mine-2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Bought) != 1 || out.Bought[0] != "+15550003333" {
		t.Errorf("answer %+v", out)
	}
	if posts.Load() != 1 || polls.Load() != 3 {
		t.Errorf("%d posts and %d polls, want 1 and 3", posts.Load(), polls.Load())
	}
}
