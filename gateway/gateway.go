// Package gateway is Klaxon's HTTP face: the Twilio webhooks (signature
// checked, made durable, handed to workflows, answered fast), the REST API
// behind a bearer token, health and metrics. It never waits for a workflow
// to finish.
package gateway

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/console"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/texts"
	"github.com/klaxonhq/klaxon/workflows"
)

// Body size caps: Twilio webhooks are small forms; API bodies are small JSON;
// a codec request carries payloads of up to Temporal's 2 MB blob limit.
const (
	maxWebhookBody = 64 << 10
	maxAPIBody     = 1 << 20
	maxCodecBody   = 8 << 20
)

// Deps are what the gateway's handlers use.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Temporal client.Client
	Metrics  *metrics.Metrics
	Logger   *slog.Logger
	Clock    klaxon.Clock
	// Inbound hands durable inbound events to Temporal; nil leaves them
	// in Postgres (for another gateway's sweep).
	Inbound *Dispatcher
	// Codec, when payloads are encrypted, also serves the `temporal` CLI
	// as a codec server at /codec/encode and /codec/decode, behind the
	// API token; nil leaves those routes out.
	Codec converter.PayloadCodec
	// Texts are the operator's overrides of user-facing texts (nil: none).
	Texts *texts.Texts
}

// Gateway serves Klaxon's HTTP routes.
type Gateway struct {
	Deps
	// start starts workflows the way every other caller does.
	start      workflows.Starter
	authTokens []string
	console    *console.Console
}

// New returns a gateway. It refuses to start without an API token, so that
// the API is never open by accident.
func New(d Deps) (*Gateway, error) {
	if d.Config.APIToken == "" {
		return nil, errors.New("gateway: KLAXON_API_TOKEN is not set; the API refuses to start without one")
	}
	if d.Clock == nil {
		d.Clock = klaxon.SystemClock{}
	}
	g := &Gateway{Deps: d, start: workflows.Starter{Client: d.Temporal, TaskQueue: d.Config.TaskQueue, Brand: d.Config.Brand}}
	for _, t := range []config.Secret{d.Config.TwilioAuthToken, d.Config.TwilioAuthTokenSecondary} {
		if t != "" {
			g.authTokens = append(g.authTokens, t.Value())
		}
	}
	c, err := g.newConsole()
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g.console = c
	return g, nil
}

// Server returns an http.Server for the gateway with sane timeouts.
func (g *Gateway) Server(addr string) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           g.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// Handler returns every route Klaxon serves, in one table.
func (g *Gateway) Handler() http.Handler {
	r := mux.NewRouter()
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.ENotFound, "No such route: %s %s.", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: fmt.Sprintf("%s is not allowed on %s.", r.Method, r.URL.Path)})
	})

	r.Use(labelRoute, cleanParams)
	r.HandleFunc("/healthz", g.healthz).Methods(http.MethodGet)
	r.Handle("/metrics", g.Metrics.Handler()).Methods(http.MethodGet)

	tw := r.PathPrefix("/twilio").Subrouter()
	tw.Use(g.twilioSignature)
	tw.HandleFunc("/sms/status", g.smsStatus).Methods(http.MethodPost)
	tw.HandleFunc("/voice/status", g.voiceStatus).Methods(http.MethodPost)
	tw.HandleFunc("/voice", g.voice).Methods(http.MethodPost)
	tw.HandleFunc("/sms", g.inboundSMS).Methods(http.MethodPost)
	tw.HandleFunc("/voice/gather", g.voiceGather).Methods(http.MethodPost)
	tw.HandleFunc("/voice/dialin", g.dialInGather).Methods(http.MethodPost)

	if g.Codec != nil {
		cod := r.PathPrefix("/codec").Subrouter()
		cod.Use(g.requireToken)
		h := converter.NewPayloadCodecHTTPHandler(g.Codec)
		cod.Handle("/{op:encode|decode}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = http.MaxBytesReader(w, r.Body, maxCodecBody)
			h.ServeHTTP(w, r)
		})).Methods(http.MethodPost)
	}

	g.integrationRoutes(r) // before the API: the key, not the token, admits monitors
	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(g.requireToken)
	api.HandleFunc("/messages", g.createMessage).Methods(http.MethodPost)
	api.HandleFunc("/messages/{id:.+}", g.getMessage).Methods(http.MethodGet)
	api.HandleFunc("/users", g.createUser).Methods(http.MethodPost)
	api.HandleFunc("/users", g.listUsers).Methods(http.MethodGet)
	api.HandleFunc("/users/{handle}", g.getUser).Methods(http.MethodGet)
	api.HandleFunc("/users/{handle}", g.patchUser).Methods(http.MethodPatch)
	api.HandleFunc("/users/{handle}/contacts", g.addContact).Methods(http.MethodPost)
	api.HandleFunc("/users/{handle}/contacts", g.listContacts).Methods(http.MethodGet)
	api.HandleFunc("/contacts/{id}", g.getContact).Methods(http.MethodGet)
	api.HandleFunc("/contacts/{id}/verify", g.verifyContact).Methods(http.MethodPost)
	api.HandleFunc("/contacts/{id}/resend", g.resendCode).Methods(http.MethodPost)
	api.HandleFunc("/otp", g.createOTP).Methods(http.MethodPost)
	api.HandleFunc("/otp/{id}/check", g.checkOTP).Methods(http.MethodPost)
	g.pageRoutes(api)
	g.rotationRoutes(api)
	g.serviceRoutes(api)
	g.directoryRoutes(api)
	api.HandleFunc("/channels", g.createChannel).Methods(http.MethodPost)
	api.HandleFunc("/channels", g.listChannels).Methods(http.MethodGet)
	api.HandleFunc("/channels/{phone}", g.getChannel).Methods(http.MethodGet)
	api.HandleFunc("/channels/{phone}", g.deleteChannel).Methods(http.MethodDelete)
	api.HandleFunc("/numbers", g.addNumber).Methods(http.MethodPost)
	api.HandleFunc("/numbers", g.listNumbers).Methods(http.MethodGet)
	api.HandleFunc("/numbers/provision", g.provisionNumbers).Methods(http.MethodPost)

	g.console.Routes(r) // the web console at /, and the ack links of page emails

	return g.instrument(r)
}

// instrument counts and times every request by its route template, and turns
// a panic into a 500 with a JSON body.
func (g *Gateway) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		// The router matches on a request of its own; labelRoute writes
		// the template it matched here.
		label := new(string)
		*label = "unmatched"
		r = r.WithContext(context.WithValue(r.Context(), routeLabelKey{}, label))
		defer func() {
			if p := recover(); p != nil {
				g.Logger.ErrorContext(r.Context(), "handler panic", "path", r.URL.Path, "panic", fmt.Sprint(p))
				writeJSON(sw, http.StatusInternalServerError, errorBody{Error: "Internal error."})
			}
			route := *label
			g.Metrics.HTTPRequests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			g.Metrics.HTTPSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

type routeLabelKey struct{}

// labelRoute tells instrument the template of the route that matched. It
// runs on the router, where the match is known.
func labelRoute(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if label, ok := r.Context().Value(routeLabelKey{}).(*string); ok {
			if m := mux.CurrentRoute(r); m != nil {
				if t, err := m.GetPathTemplate(); err == nil {
					*label = t
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// requireToken admits API requests that carry the bearer token.
func (g *Gateway) requireToken(next http.Handler) http.Handler {
	want := []byte("Bearer " + g.Config.APIToken.Value())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="klaxon"`)
			writeError(w, r, g.Logger, tokenRefused(string(got), g.Config.DataDir))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// tokenRefused says why a request's token was refused: none was sent, or
// it is not this server's (a dev token, from an earlier `klaxon dev` or
// another checkout, is told where the current one is kept).
func tokenRefused(authorization, dataDir string) error {
	switch {
	case authorization == "":
		return klaxon.Errorf(klaxon.EUnauthorized, "A valid API token is required: send Authorization: Bearer <KLAXON_API_TOKEN>.")
	case strings.HasPrefix(authorization, "Bearer dev-"):
		return klaxon.Errorf(klaxon.EUnauthorized, "This API token is not this server's: klaxon dev prints its token at start and keeps it in %s; export KLAXON_API_TOKEN=$(cat %s).",
			filepath.Join(dataDir, "api-token"), filepath.Join(dataDir, "api-token"))
	default:
		return klaxon.Errorf(klaxon.EUnauthorized, "This API token is not this server's KLAXON_API_TOKEN.")
	}
}

// healthz answers 200 when Postgres and Temporal both answer.
func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	out := map[string]string{"postgres": "ok", "temporal": "ok"}
	status := http.StatusOK
	if err := g.Store.Ping(ctx); err != nil {
		out["postgres"], status = "unavailable", http.StatusServiceUnavailable
	}
	if _, err := g.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		out["temporal"], status = "unavailable", http.StatusServiceUnavailable
	}
	if status == http.StatusOK {
		out["status"] = "ok"
	} else {
		out["status"] = "unavailable"
	}
	writeJSON(w, status, out)
}

// errorBody is every error response: one clear sentence.
type errorBody struct {
	Error string `json:"error"`
}

// statusOf maps each error kind to its HTTP status: the one table.
var statusOf = map[klaxon.ErrorCode]int{
	klaxon.EInvalid:       http.StatusBadRequest,
	klaxon.EUnprocessable: http.StatusUnprocessableEntity,
	klaxon.EUnsupported:   http.StatusUnsupportedMediaType,
	klaxon.ETooLarge:      http.StatusRequestEntityTooLarge,
	klaxon.ENotFound:      http.StatusNotFound,
	klaxon.EConflict:      http.StatusConflict,
	klaxon.EThrottled:     http.StatusTooManyRequests,
	klaxon.EUnauthorized:  http.StatusUnauthorized,
	klaxon.EUnavailable:   http.StatusServiceUnavailable,
	klaxon.EInternal:      http.StatusInternalServerError,
}

// writeError answers err as JSON with the status of its kind. Internal
// errors are logged and never shown.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	code := klaxon.ErrorCodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status >= 500 {
		logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	var ke *klaxon.Error
	if errors.As(err, &ke) && ke.RetryAfter > 0 {
		secs := int((ke.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	writeJSON(w, status, errorBody{Error: klaxon.ErrorMessageOf(err)})
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// decodeJSON reads a JSON object body into dst, with a size cap and clear
// errors for every way it can be wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return klaxon.Errorf(klaxon.EUnsupported, "Content-Type must be application/json.")
		}
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return klaxon.Errorf(klaxon.ETooLarge, "The request body is larger than %d bytes.", maxAPIBody)
	case err != nil:
		return klaxon.Errorf(klaxon.EInvalid, "The request body could not be read.")
	case !utf8.Valid(raw):
		return refusedText("request body", "invalid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(dst); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return klaxon.Errorf(klaxon.EInvalid, "The request body is empty; send a JSON object.")
		case errors.As(err, &syn):
			return klaxon.Errorf(klaxon.EInvalid, "The request body is not valid JSON (at byte %d).", syn.Offset)
		case errors.As(err, &typ):
			if typ.Field != "" {
				return klaxon.Errorf(klaxon.EInvalid, "Field %q must be a %s.", typ.Field, jsonKind(typ.Type.Kind().String()))
			}
			return klaxon.Errorf(klaxon.EInvalid, "The request body must be a JSON object.")
		default:
			return klaxon.Errorf(klaxon.EInvalid, "The request body could not be read as JSON.")
		}
	}
	if dec.More() {
		return klaxon.Errorf(klaxon.EInvalid, "The request body must hold a single JSON object.")
	}
	if bad := checkText(reflect.ValueOf(dst)); bad != "" {
		return refusedText("request body", bad)
	}
	return nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "int", "int32", "int64", "uint", "uint32", "uint64", "float64", "float32":
		return "number"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "list"
	default:
		return "object"
	}
}
