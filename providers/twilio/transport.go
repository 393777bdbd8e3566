package twilio

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxErrorBody bounds how much of an error response is kept for decoding;
// Twilio's error bodies are a few hundred bytes.
const maxErrorBody = 64 << 10

// rewriter points every request at the configured API base URL. twilio-go
// has no base-URL setting and builds https://api.twilio.com/... itself, so
// the scheme and host are swapped here (and the base URL's path, if any, is
// prefixed), keeping the path and query twilio-go built.
type rewriter struct {
	scheme, host, prefix string
	base                 http.RoundTripper
}

func newRewriter(base *url.URL, next http.RoundTripper) *rewriter {
	return &rewriter{
		scheme: base.Scheme,
		host:   base.Host,
		prefix: strings.TrimSuffix(base.EscapedPath(), "/"),
		base:   next,
	}
}

// RoundTrip sends req to the configured base URL.
func (t *rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.WithContext(req.Context()) // shallow copy: a RoundTripper must not modify req
	u := *req.URL
	u.Scheme, u.Host = t.scheme, t.host
	if t.prefix != "" {
		u.RawPath = t.prefix + u.EscapedPath()
		u.Path = unescapePath(u.RawPath)
	}
	r.URL = &u
	r.Host = ""
	return t.base.RoundTrip(r)
}

func unescapePath(p string) string {
	s, err := url.PathUnescape(p)
	if err != nil {
		return p
	}
	return s
}

// exchange binds one API operation to its caller's context and remembers the
// last HTTP status, so that an error body twilio-go cannot decode is still
// classified by its status. twilio-go builds every request with
// context.Background; without this a cancelled activity would wait for the
// full HTTP timeout.
type exchange struct {
	ctx    context.Context
	next   http.RoundTripper
	status int
}

// RoundTrip runs req under both its own deadline (the http.Client timeout)
// and the caller's context.
func (e *exchange) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := context.AfterFunc(e.ctx, func() { cancel(context.Cause(e.ctx)) })
	release := func() {
		stop()
		cancel(nil)
	}
	resp, err := e.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	e.status = resp.StatusCode
	if resp.StatusCode >= 300 {
		// twilio-go decodes error bodies without closing them, which would
		// pin the connection; read the body here and hand over a copy.
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		release()
		if rerr != nil {
			return nil, rerr
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		return resp, nil
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody frees the exchange's context once the body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
