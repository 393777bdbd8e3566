package gateway_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// NUL bytes and invalid UTF-8 are refused once, where bodies are decoded
// and path parameters read, with a 400 and one sentence: never a 500 from
// Postgres refusing them, and nothing changes.
func TestAPI_RefusesNULAndInvalidUTF8With400(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	tests := []struct {
		name, method, path, body string
	}{
		{"message body", "POST", "/api/v1/messages", `{"to":"+15555550123","body":"hi\u0000there"}`},
		{"page summary", "POST", "/api/v1/pages", `{"target":"user:alice","summary":"disk\u0000full"}`},
		{"page dedup key", "POST", "/api/v1/pages", `{"target":"user:alice","summary":"disk full","dedup_key":"a\u0000b"}`},
		{"ack by", "POST", "/api/v1/pages/1/ack", `{"by":"ops\u0000bot"}`},
		{"otp user", "POST", "/api/v1/otp", `{"user":"a\u0000"}`},
		{"rotation name", "POST", "/api/v1/rotations", `{"name":"on\u0000call","members":["alice"]}`},
		{"policy name", "POST", "/api/v1/policies", `{"name":"p\u0000","steps":[{"targets":["user:alice"]}]}`},
		{"user name", "POST", "/api/v1/users", `{"handle":"alice","name":"Al\u0000ice"}`},
		{"nested list", "POST", "/api/v1/rotations", `{"name":"oncall","members":["al\u0000ice"]}`},
		{"invalid UTF-8 body", "POST", "/api/v1/users", "{\"handle\":\"alice\",\"name\":\"Al\xffice\"}"},
		{"NUL in a path", "GET", "/api/v1/users/a%00b", ""},
		{"invalid UTF-8 in a path", "GET", "/api/v1/users/%ff", ""},
		{"NUL in a query", "GET", "/api/v1/pages?status=open%00", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, ig.srv.URL+tc.path, bytes.NewReader([]byte(tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer api-token")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "NUL") && !strings.Contains(string(b), "UTF-8") {
				t.Errorf("%s %s answered %d %s, want 400 naming the bad text", tc.method, tc.path, resp.StatusCode, b)
			}
		})
	}
	var n int
	if err := ig.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d users were created from refused requests (%v)", n, err)
	}
}

// Klaxon's own numbers (paging, signup, diagnostics) are never a
// channel's: the API refuses them before anything starts.
func TestCreateChannel_RefusesKlaxonsOwnNumbers(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	ig.g.Config.SignupNumber = "+15555550177"
	ig.g.Config.DiagnosticsNumber = "+15555550178"
	for _, n := range []string{inbPaging, "+15555550177", "+15555550178"} {
		status, out := ig.apiCall(t, "POST", "/api/v1/channels", `{"phone":"`+n+`","admins":["+15555550150"]}`)
		if status != http.StatusConflict || !strings.Contains(fmt.Sprint(out["error"]), "Klaxon's own") {
			t.Errorf("channel on %s answered %d %v, want 409 naming it Klaxon's own", n, status, out)
		}
		status, out = ig.apiCall(t, "POST", "/api/v1/numbers", `{"phone":"`+n+`"}`)
		if status != http.StatusConflict {
			t.Errorf("adding %s to the pool answered %d %v, want 409", n, status, out)
		}
	}
}
