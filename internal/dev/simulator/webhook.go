package simulator

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/klaxonhq/klaxon/redact"
)

// maxWebhookResponse bounds how much of a webhook's answer is read.
const maxWebhookResponse = 1 << 20

// Signature returns the X-Twilio-Signature Twilio sends with a webhook: the
// base64 HMAC-SHA1, keyed with the auth token, of the full URL followed by
// every POST parameter's name and value, sorted by name (and, for a repeated
// name, by value). A GET webhook signs its URL, query included, with no
// parameters.
func Signature(authToken, fullURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vals := slices.Clone(params[k])
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// webhookError is a webhook that answered with a non-2xx status.
type webhookError struct{ status int }

func (e *webhookError) Error() string { return fmt.Sprintf("webhook answered http %d", e.status) }

// webhook sends a signed, form-encoded request to rawURL as Twilio would and
// returns the response body of a 2xx answer. method is "GET" or "POST"
// (empty means POST).
func (s *Simulator) webhook(ctx context.Context, rawURL, method string, params url.Values) ([]byte, error) {
	var req *http.Request
	var err error
	if strings.EqualFold(method, http.MethodGet) {
		u := rawURL
		if q := params.Encode(); q != "" {
			sep := "?"
			if strings.Contains(u, "?") {
				sep = "&"
			}
			u += sep + q
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil {
			req.Header.Set("X-Twilio-Signature", Signature(s.cfg.AuthToken, u, nil))
		}
	} else {
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(params.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", Signature(s.cfg.AuthToken, rawURL, params))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("I-Twilio-Idempotency-Token", newID(""))
	req.Header.Set("Accept", "*/*")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post webhook: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookResponse))
	if err != nil {
		return nil, fmt.Errorf("read webhook answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, &webhookError{status: resp.StatusCode}
	}
	return body, nil
}

// boundedWebhook is webhook for background work: at most
// maxConcurrentWebhooks of them are in flight at once.
func (s *Simulator) boundedWebhook(ctx context.Context, rawURL, method string, params url.Values) ([]byte, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to send webhook: %w", context.Cause(ctx))
	}
	defer func() { <-s.sem }()
	return s.webhook(ctx, rawURL, method, params)
}

// callback sends a background status callback and logs (only) a failure:
// Twilio does not retry status callbacks either.
func (s *Simulator) callback(ctx context.Context, rawURL, method string, params url.Values, kind string) {
	if rawURL == "" {
		return
	}
	if _, err := s.boundedWebhook(ctx, rawURL, method, params); err != nil && ctx.Err() == nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "simulator status callback failed",
			slog.String("kind", kind),
			slog.String("to", redact.Number(params.Get("To"))),
			slog.String("url", redactURL(rawURL)),
			slog.Any("error", err))
	}
}

// redactURL drops a URL's query and credentials, which may carry secrets.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid url)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// newID returns prefix followed by 32 random hex digits, the shape of a
// Twilio SID.
func newID(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails
	return prefix + hex.EncodeToString(b[:])
}
