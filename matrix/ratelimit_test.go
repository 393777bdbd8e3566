package matrix

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"

	"github.com/klaxonhq/klaxon/internal/testenv"
)

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		body    string
		header  string
		limited bool
		wait    time.Duration
	}{
		{"retry_after_ms", 429, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500}`, "", true, 1500 * time.Millisecond},
		{"header only", 429, `{"errcode":"M_LIMIT_EXCEEDED"}`, "3", true, 3 * time.Second},
		{"neither", 429, `{"errcode":"M_LIMIT_EXCEEDED"}`, "", true, time.Second},
		{"capped", 429, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":3600000}`, "", true, time.Minute},
		{"another error", 403, `{"errcode":"M_FORBIDDEN"}`, "", false, 0},
		{"no errcode", 429, `{}`, "", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			rec := httptest.NewRecorder()
			if tc.header != "" {
				rec.Header().Set("Retry-After", tc.header)
			}
			rec.WriteHeader(tc.status)
			_, _ = rec.WriteString(tc.body)
			_, err := mautrix.ParseErrorResponse(req, rec.Result())
			wait, limited := RetryAfter(err)
			if limited != tc.limited || wait != tc.wait {
				t.Errorf("RetryAfter = %v, %v; want %v, %v", wait, limited, tc.wait, tc.limited)
			}
		})
	}
}

// TestSend_WaitsOutTheHomeserversRetryAfter: a homeserver that answers
// M_LIMIT_EXCEEDED with retry_after_ms gets the same transaction again
// after that long, not sooner, and the line is sent once.
func TestSend_WaitsOutTheHomeserversRetryAfter(t *testing.T) {
	const retryAfter = 400 * time.Millisecond
	var mu sync.Mutex
	var txns []string
	var times []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.Path, "/send/m.room.message/") {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		txns = append(txns, r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:])
		times = append(times, time.Now())
		n := len(txns)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":%d}`, retryAfter.Milliseconds())
			return
		}
		fmt.Fprint(w, `{"event_id":"$sent"}`)
	}))
	defer srv.Close()

	n, err := New(Config{Homeserver: srv.URL, Token: "t", Rooms: []string{"!team:localhost"}}, nil, testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := mautrix.NewClient(srv.URL, "@bot:localhost", "t")
	if err != nil {
		t.Fatal(err)
	}
	cli.IgnoreRateLimit, cli.DefaultHTTPRetries = true, 0
	ev, err := n.send(context.Background(), cli, "!team:localhost", &event.MessageEventContent{MsgType: event.MsgNotice, Body: "hi"})
	if err != nil || ev != "$sent" {
		t.Fatalf("send = %q, %v", ev, err)
	}
	if len(txns) != 2 || txns[0] != txns[1] {
		t.Fatalf("requests %v: want the one transaction twice", txns)
	}
	if gap := times[1].Sub(times[0]); gap < retryAfter {
		t.Errorf("retried after %v, before the %v the homeserver asked", gap, retryAfter)
	}
}
