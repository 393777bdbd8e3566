// Package client is a typed client of Klaxon's REST API. It sends and reads
// the wire types of package api, turns every error answer into an *Error
// carrying the status and the API's sentence, and retries what is safe to
// retry: reads, and creates that carry an idempotency key, which it keeps
// the same across its own attempts so that a retry never buys a second
// number or creates a second channel.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/api"
)

// Error is an error answer from the API: its HTTP status and its one clear
// sentence.
type Error struct {
	Status  int
	Message string
}

// Error returns the API's sentence, or the status when it gave none.
func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("the API answered %d %s", e.Status, http.StatusText(e.Status))
}

// StatusOf returns the HTTP status of an API error, or 0 when err is not one.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Client talks to one Klaxon API with one bearer token. It is safe for
// concurrent use.
type Client struct {
	base    string
	token   string
	http    *http.Client
	retries int
	backoff time.Duration
}

// Option changes how a Client behaves.
type Option func(*Client)

// WithHTTPClient sends requests through hc instead of a plain http.Client.
// Per-call timeouts still apply through the request's context.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithRetries sets how many more times a retryable call is tried after its
// first attempt fails to get an answer (or gets a 502, 503 or 504), and the
// wait before the first retry, doubled for each later one.
func WithRetries(n int, backoff time.Duration) Option {
	return func(c *Client) { c.retries, c.backoff = max(n, 0), backoff }
}

// New returns a client of the API at baseURL (such as
// "http://localhost:8080") authenticated with token.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	base := strings.TrimRight(baseURL, "/")
	if u, err := url.Parse(base); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("%q is not an http(s) URL", baseURL)
	}
	if token == "" {
		return nil, errors.New("no API token")
	}
	c := &Client{base: base, token: token, http: &http.Client{}, retries: 2, backoff: time.Second}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL is the API's address, for messages.
func (c *Client) BaseURL() string { return c.base }

// Per-attempt time limits. Creating a channel waits for its workflow, and
// provisioning for the provider to sell numbers.
const (
	defaultTimeout   = 30 * time.Second
	channelTimeout   = 45 * time.Second
	provisionTimeout = 3 * time.Minute
	// directoryTimeout outlasts the gateway's own wait for a directory
	// synchronisation.
	directoryTimeout = 40 * time.Second
)

// call is one API call.
type call struct {
	method, path string
	body         any
	out          any
	timeout      time.Duration
	// idempotencyKey, when set, goes in the Idempotency-Key header of every
	// attempt and makes a POST retryable.
	idempotencyKey string
	// raw, when set, receives the answer's body as it is.
	raw io.Writer
}

func (c *Client) do(ctx context.Context, cl call) error {
	var body []byte
	if cl.body != nil {
		b, err := json.Marshal(cl.body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", cl.method, cl.path, err)
		}
		body = b
	}
	if cl.timeout == 0 {
		cl.timeout = defaultTimeout
	}
	retryable := cl.method == http.MethodGet || cl.idempotencyKey != ""
	wait := c.backoff
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, cl, body)
		if !retryable || attempt >= c.retries || !transient(err) || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait *= 2
	}
}

// transient reports whether an attempt's failure may pass on its own: no
// answer at all, or a gateway that could not finish in time.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status == http.StatusBadGateway || e.Status == http.StatusServiceUnavailable || e.Status == http.StatusGatewayTimeout
	}
	var ue *unreachableError
	return errors.As(err, &ue)
}

// unreachableError is an attempt that got no answer.
type unreachableError struct {
	base string
	err  error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the Klaxon API at %s: %v", e.base, e.err)
}

func (e *unreachableError) Unwrap() error { return e.err }

func (c *Client) once(ctx context.Context, cl call, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, c.base+cl.path, rd)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", cl.method, cl.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cl.idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", cl.idempotencyKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &unreachableError{base: c.base, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e api.Error
		_ = json.Unmarshal(data, &e)
		return &Error{Status: resp.StatusCode, Message: e.Error}
	}
	if cl.raw != nil {
		if _, err := io.Copy(cl.raw, resp.Body); err != nil {
			return &unreachableError{base: c.base, err: err}
		}
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return &unreachableError{base: c.base, err: err}
	}
	if cl.out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, cl.out); err != nil {
			return fmt.Errorf("decode answer to %s %s: %w", cl.method, cl.path, err)
		}
	}
	return nil
}

// NewRequestID returns a fresh idempotency key for one create, to be kept
// across every retry of it.
func NewRequestID(prefix string) string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func esc(s string) string { return url.PathEscape(s) }
