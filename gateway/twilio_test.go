package gateway_test

import (
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	twclient "github.com/twilio/twilio-go/client"
	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/gateway"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/metrics"
)

const (
	publicURL = "https://klaxon.example.org"
	authToken = "primarytoken0123"
	oldToken  = "secondarytoken01"
)

// newGateway serves a gateway on a fresh database. Temporal is a lazy client
// to nowhere: these routes must not need it.
func newGateway(t *testing.T) (*httptest.Server, *testenv.DB) {
	t.Helper()
	db := testenv.Postgres(t)
	cfg := config.Defaults()
	cfg.PublicURL = publicURL
	cfg.APIToken = "api-token"
	cfg.TwilioAccountSID = "ACtest"
	cfg.TwilioAuthToken = authToken
	cfg.TwilioAuthTokenSecondary = oldToken
	tc, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(gateway.Deps{Config: cfg, Store: db.Store, Temporal: tc, Metrics: metrics.New(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return srv, db
}

// post sends a form to path signed with token ("" for no signature).
func post(t *testing.T, srv *httptest.Server, path string, form url.Values, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if token != "" {
		req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(gateway.Signature(token, publicURL+path, form)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestSignature_MatchesTwilioValidator(t *testing.T) {
	form := url.Values{"To": {"+15555550100"}, "From": {"+15555550123"}, "Body": {"3a"}, "MessageSid": {"SM123"}}
	full := publicURL + "/twilio/sms?x=1"
	sig := base64.StdEncoding.EncodeToString(gateway.Signature(authToken, full, form))
	params := map[string]string{}
	for k := range form {
		params[k] = form.Get(k)
	}
	v := twclient.NewRequestValidator(authToken)
	if !v.Validate(full, params, sig) {
		t.Fatal("twilio-go's validator rejects our signature")
	}
}

func TestStatusCallback_RejectsBadSignaturesAndStoresNothing(t *testing.T) {
	srv, db := newGateway(t)
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}
	cases := []struct {
		name  string
		token string
		want  int
	}{
		{"missing signature", "", http.StatusForbidden},
		{"wrong token", "not-the-token", http.StatusForbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if resp := post(t, srv, "/twilio/sms/status", form, c.token); resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
	t.Run("signature over another URL", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/twilio/sms/status", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(gateway.Signature(authToken, srv.URL+"/twilio/sms/status", form)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a signature built from the Host header was accepted: %d", resp.StatusCode)
		}
	})
	t.Run("wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/twilio/sms/status", strings.NewReader(`{"MessageSid":"SM1"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("status %d, want 415", resp.StatusCode)
		}
	})
	var n int
	if err := db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM status_events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d status events stored from rejected requests", n)
	}
}

func TestStatusCallback_AppliedOnceAndNeverBackwards(t *testing.T) {
	srv, db := newGateway(t)
	ctx := t.Context()
	m := klaxon.Message{ID: "msg_cb", Medium: klaxon.SMS, To: "+15555550123", Body: "x"}
	if _, err := db.Store.BeginAttempt(ctx, m, "first", 1); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.FinishAttempt(ctx, m.ID, "first", 1, klaxon.Receipt{ProviderID: "SMcb", Status: "queued"}); err != nil {
		t.Fatal(err)
	}
	send := func(status string, token string) int {
		return post(t, srv, "/twilio/sms/status", url.Values{"MessageSid": {"SMcb"}, "MessageStatus": {status}}, token).StatusCode
	}
	for _, st := range []string{"delivered", "sent", "delivered", "queued"} {
		if code := send(st, authToken); code != http.StatusNoContent {
			t.Fatalf("%s: status %d", st, code)
		}
	}
	// The previous auth token still validates during a rotation.
	if code := send("sent", oldToken); code != http.StatusNoContent {
		t.Fatalf("secondary token refused: %d", code)
	}
	rec, _, events, err := db.Store.GetMessage(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != "delivered" {
		t.Errorf("status %q after out-of-order callbacks, want delivered", rec.Status)
	}
	if len(events) != 3 { // delivered, sent, queued — each once
		t.Errorf("%d events recorded, want 3 distinct: %+v", len(events), events)
	}
}

func TestStatusCallback_BeforeProviderAnswerIsFoldedIn(t *testing.T) {
	srv, db := newGateway(t)
	ctx := t.Context()
	m := klaxon.Message{ID: "msg_early", Medium: klaxon.SMS, To: "+15555550123", Body: "x"}
	if _, err := db.Store.BeginAttempt(ctx, m, "first", 1); err != nil {
		t.Fatal(err)
	}
	if code := post(t, srv, "/twilio/sms/status", url.Values{"MessageSid": {"SMearly"}, "MessageStatus": {"delivered"}}, authToken).StatusCode; code != http.StatusNoContent {
		t.Fatalf("status %d", code)
	}
	if err := db.Store.FinishAttempt(ctx, m.ID, "first", 1, klaxon.Receipt{ProviderID: "SMearly", Status: "queued"}); err != nil {
		t.Fatal(err)
	}
	rec, _, _, _ := db.Store.GetMessage(ctx, m.ID)
	if rec.Status != "delivered" {
		t.Errorf("status %q, want the early callback's delivered", rec.Status)
	}
}

func TestAPI_HealthAndMetricsNeedNoToken(t *testing.T) {
	srv, _ := newGateway(t)
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "klaxon_rate_limit_waits_total") {
		t.Errorf("metrics: %d", resp.StatusCode)
	}
	// Temporal is unreachable here: health must say so, with 503.
	resp, err = http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("healthz with Temporal down: %d, want 503", resp.StatusCode)
	}
}

// Twilio signs a webhook's URL with or without the scheme's default port
// (:443, :80); like twilio-go's RequestValidator, both forms are accepted,
// whichever form KLAXON_PUBLIC_URL is written in. Another port is not.
func TestSignature_AcceptsTheURLWithAndWithoutTheDefaultPort(t *testing.T) {
	srv, _ := newGateway(t)
	form := url.Values{"MessageSid": {"SM404"}, "MessageStatus": {"delivered"}}
	path := "/twilio/sms/status"
	send := func(signedURL string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(gateway.Signature(authToken, signedURL, form)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, u := range []string{"https://klaxon.example.org" + path, "https://klaxon.example.org:443" + path} {
		if got := send(u); got == http.StatusForbidden {
			t.Errorf("a signature over %s was refused", u)
		}
	}
	if got := send("https://klaxon.example.org:8443" + path); got != http.StatusForbidden {
		t.Errorf("a signature over another port answered %d, want 403", got)
	}
	for _, tc := range []struct{ public, signed string }{
		{"https://klaxon.example.org:443", "https://klaxon.example.org"},
		{"http://klaxon.example.org", "http://klaxon.example.org:80"},
		{"http://klaxon.example.org:80", "http://klaxon.example.org"},
	} {
		if !gateway.ValidSignatureURL(tc.public+path, form, authToken,
			base64.StdEncoding.EncodeToString(gateway.Signature(authToken, tc.signed+path, form))) {
			t.Errorf("public URL %s refused a signature over %s", tc.public, tc.signed)
		}
	}
}
