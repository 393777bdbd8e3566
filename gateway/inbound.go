package gateway

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// emptyTwiML answers an inbound text without replying: the workflow sends
// any reply itself, through the delivery pipeline.
const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

// inboundSMS is /twilio/sms: every text to any of our numbers. The
// signature is already checked and the form parsed. The text is made
// durable (once per MessageSid), handed to the dispatcher without waiting,
// and answered with empty TwiML in a few milliseconds, whether or not
// Temporal is up.
func (g *Gateway) inboundSMS(w http.ResponseWriter, r *http.Request) {
	ev, err := parseInboundSMS(r.PostForm, g.Config.DefaultRegion)
	if err != nil {
		g.Metrics.Webhooks.WithLabelValues("/sms", "bad_request").Inc()
		http.Error(w, klaxon.ErrorMessageOf(err), http.StatusBadRequest)
		return
	}
	_, fresh, err := g.recordInbound(r.Context(), ev)
	if err != nil {
		g.Metrics.Webhooks.WithLabelValues("/sms", "unavailable").Inc()
		g.Logger.ErrorContext(r.Context(), "record inbound text", "from", redact.Number(ev.From), "error", err)
		// Twilio may retry a 5xx; the same MessageSid is then one event.
		http.Error(w, "Temporarily unavailable.", http.StatusServiceUnavailable)
		return
	}
	result := "stored"
	if !fresh {
		result = "duplicate"
	}
	g.Metrics.Webhooks.WithLabelValues("/sms", result).Inc()
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(emptyTwiML))
}

// recordInbound makes an inbound event durable and hands it to the
// dispatcher without blocking. It is the one way a webhook handler (texts
// here, keypresses in the paging feature's gather handler) feeds the
// inbound pipeline; the event's Kind, DedupKey, From and To must be set. A
// repeated dedup key returns the stored event with fresh=false.
func (g *Gateway) recordInbound(ctx context.Context, ev store.InboundEvent) (store.InboundEvent, bool, error) {
	stored, fresh, err := g.Store.RecordInbound(ctx, ev)
	if err != nil {
		return stored, false, fmt.Errorf("record inbound: %w", err)
	}
	if g.Inbound != nil && stored.HandedAt == nil {
		g.Inbound.Hand(stored)
	}
	return stored, fresh, nil
}

// Limits of an inbound text's fields.
const (
	maxSIDLen  = 64
	maxBodyLen = klaxon.MaxBodyLen
)

// parseInboundSMS validates and normalises the form of an inbound-SMS
// webhook into an event: a MessageSid, From and To that are phone numbers
// (E.164 as Twilio sends them, or normalised to it), and a body of at most 1600 characters, made valid
// UTF-8 without NUL bytes. Every refusal is an EInvalid error with one
// clear sentence.
func parseInboundSMS(form url.Values, region string) (store.InboundEvent, error) {
	ev := store.InboundEvent{Kind: store.InboundSMS}
	sid := strings.TrimSpace(form.Get("MessageSid"))
	if sid == "" {
		sid = strings.TrimSpace(form.Get("SmsMessageSid"))
	}
	if sid == "" {
		return ev, klaxon.Errorf(klaxon.EInvalid, "MessageSid is required.")
	}
	if !validSID(sid) {
		return ev, klaxon.Errorf(klaxon.EInvalid, "MessageSid must be 2 to %d letters and digits.", maxSIDLen)
	}
	ev.DedupKey = sid
	for _, f := range []struct {
		name string
		dst  *string
	}{{"From", &ev.From}, {"To", &ev.To}} {
		raw := form.Get(f.name)
		if strings.TrimSpace(raw) == "" {
			return ev, klaxon.Errorf(klaxon.EInvalid, "%s is required.", f.name)
		}
		if phone.IsE164(raw) {
			// Twilio's own (signed) canonical form: no need to parse it.
			*f.dst = raw
			continue
		}
		if strings.ContainsFunc(raw, unicode.IsControl) {
			return ev, klaxon.Errorf(klaxon.EInvalid, "%s is not a phone number: it holds control characters.", f.name)
		}
		n, err := phone.Normalize(raw, region)
		if err != nil {
			return ev, klaxon.Errorf(klaxon.EInvalid, "%s: %s", f.name, klaxon.ErrorMessageOf(err))
		}
		*f.dst = n
	}
	body := form.Get("Body")
	if !utf8.ValidString(body) {
		body = strings.ToValidUTF8(body, "\uFFFD")
	}
	body = strings.ReplaceAll(body, "\x00", "")
	if n := utf8.RuneCountInString(body); n > maxBodyLen {
		return ev, klaxon.Errorf(klaxon.EInvalid, "Body is %d characters long; the limit is %d.", n, maxBodyLen)
	}
	ev.Body = body
	return ev, nil
}

func validSID(s string) bool {
	if len(s) < 2 || len(s) > maxSIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// inboundCall answers a call someone placed to one of our numbers (the
// voice webhook without a message): a short spoken message, then hang up.
func (g *Gateway) inboundCall(w http.ResponseWriter, r *http.Request) {
	to, _ := phone.Normalize(r.PostForm.Get("To"), g.Config.DefaultRegion)
	if to != "" && to == g.Config.FromNumber {
		caller, _ := phone.Normalize(r.PostForm.Get("From"), g.Config.DefaultRegion)
		g.dialIn(w, r, caller)
		return
	}
	text := fmt.Sprintf("You have reached %s. This number takes text messages only. Goodbye.", g.Config.Brand)
	g.Metrics.Webhooks.WithLabelValues("/voice", "inbound_call").Inc()
	writeTwiML(w, sayAndHangUp(text))
}

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	Store     *store.Store
	Temporal  client.Client
	TaskQueue string
	Metrics   *metrics.Metrics
	Logger    *slog.Logger
	// SweepEvery is how often events not yet handed are retried; 2 s when
	// zero.
	SweepEvery time.Duration
	// Shards is how many hand-offs run at once (events of one sender
	// always go through the same one, in order); 4 when zero.
	Shards int
}

// Dispatcher hands durable inbound events to Temporal: it starts workflow
// Inbound for each (idempotently: the workflow id is the event's dedup key,
// and a closed one is never started again), then marks the event handed. A
// handler gives it events without blocking; a sweep, at start and every
// SweepEvery, re-hands in arrival order whatever is not handed yet — so
// while Temporal is down everything waits in Postgres and drains by itself
// when it returns.
type Dispatcher struct {
	o       DispatcherOptions
	starter workflows.Starter
	shards  []chan store.InboundEvent
	poke    chan struct{}

	mu          sync.Mutex
	inflight    map[int64]struct{}
	pausedUntil time.Time

	// answered is set once Temporal has taken a hand-off. Until then the
	// shards hand off one at a time: a lazy client loads the server's
	// capabilities on its first calls, and the SDK reads them unguarded
	// while a concurrent first call writes them.
	answered  atomic.Bool
	firstCall sync.Mutex

	handoffs *prometheus.CounterVec
	lag      prometheus.Histogram
}

// The dispatcher's tuning.
const (
	dispatchQueue     = 256
	dispatchBatch     = 512
	dispatchTimeout   = 5 * time.Second
	dispatchPauseFor  = 2 * time.Second
	defaultSweepEvery = 2 * time.Second
)

// NewDispatcher returns a dispatcher; Run runs it.
func NewDispatcher(o DispatcherOptions) *Dispatcher {
	if o.SweepEvery <= 0 {
		o.SweepEvery = defaultSweepEvery
	}
	if o.Shards <= 0 {
		o.Shards = 4
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	d := &Dispatcher{
		o: o, poke: make(chan struct{}, 1), inflight: map[int64]struct{}{},
		starter: workflows.Starter{Client: o.Temporal, TaskQueue: o.TaskQueue},
	}
	for range o.Shards {
		d.shards = append(d.shards, make(chan store.InboundEvent, dispatchQueue))
	}
	d.handoffs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "klaxon_inbound_handoffs_total", Help: "Inbound events handed to Temporal, by result (started, existing, failed).",
	}, []string{"result"})
	d.lag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "klaxon_inbound_handoff_seconds", Help: "Time from an inbound event's arrival to its workflow's start.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	})
	if o.Metrics != nil {
		d.handoffs = registerOrReuse(o.Metrics.Registry(), d.handoffs)
		d.lag = registerOrReuse(o.Metrics.Registry(), d.lag)
	}
	return d
}

// registerOrReuse registers c, or returns the collector already registered
// under its name (two dispatchers on one registry, in tests).
func registerOrReuse[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

// Run runs the hand-offs and the sweep until ctx ends, then waits for
// them. Events not handed yet stay in Postgres for the next sweep. It
// always returns nil: a hand-off that fails waits for the next sweep.
func (d *Dispatcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, ch := range d.shards {
		wg.Go(func() { d.runShard(ctx, ch) })
	}
	wg.Go(func() { d.runSweep(ctx) })
	wg.Wait()
	return nil
}

// Hand queues an event for hand-off without blocking. When its queue is
// full, or Temporal was just found unavailable, the event is left to the
// sweep.
func (d *Dispatcher) Hand(ev store.InboundEvent) {
	if !d.claim(ev.ID) {
		return
	}
	select {
	case d.shardOf(ev) <- ev:
	default:
		d.release(ev.ID)
	}
}

// Sweep asks for a sweep now.
func (d *Dispatcher) Sweep() {
	select {
	case d.poke <- struct{}{}:
	default:
	}
}

func (d *Dispatcher) shardOf(ev store.InboundEvent) chan store.InboundEvent {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ev.From))
	return d.shards[h.Sum32()%uint32(len(d.shards))]
}

// claim marks an event in flight; it fails when it already is, or while
// hand-offs are paused.
func (d *Dispatcher) claim(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if time.Now().Before(d.pausedUntil) {
		return false
	}
	if _, ok := d.inflight[id]; ok {
		return false
	}
	d.inflight[id] = struct{}{}
	return true
}

func (d *Dispatcher) release(id int64) {
	d.mu.Lock()
	delete(d.inflight, id)
	d.mu.Unlock()
}

func (d *Dispatcher) paused() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return time.Now().Before(d.pausedUntil)
}

// pause stops hand-offs for a moment after a failure; it reports whether
// they were running until now.
func (d *Dispatcher) pause() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	was := !time.Now().Before(d.pausedUntil)
	d.pausedUntil = time.Now().Add(dispatchPauseFor)
	return was
}

func (d *Dispatcher) runShard(ctx context.Context, ch chan store.InboundEvent) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-ch:
			d.handOne(ctx, ev)
		}
	}
}

func (d *Dispatcher) handOne(ctx context.Context, ev store.InboundEvent) {
	defer d.release(ev.ID)
	if d.paused() {
		return
	}
	existing, err := d.start(ctx, ev)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		d.handoffs.WithLabelValues("failed").Inc()
		if d.pause() {
			d.o.Logger.WarnContext(ctx, "inbound hand-off failed; events wait in Postgres and are retried",
				"event", ev.ID, "error", err)
		}
		return
	}
	if err := d.o.Store.MarkInboundHanded(ctx, ev.ID); err != nil && ctx.Err() == nil {
		// The workflow exists; a repeated hand-off finds it.
		d.o.Logger.WarnContext(ctx, "mark inbound handed", "event", ev.ID, "error", err)
	}
	if existing {
		d.handoffs.WithLabelValues("existing").Inc()
		return
	}
	d.handoffs.WithLabelValues("started").Inc()
	if !ev.ReceivedAt.IsZero() {
		d.lag.Observe(time.Since(ev.ReceivedAt).Seconds())
	}
}

// start starts the event's workflow; existing reports that it had been
// started before (and may have finished).
func (d *Dispatcher) start(ctx context.Context, ev store.InboundEvent) (existing bool, err error) {
	if !d.answered.Load() {
		d.firstCall.Lock()
		defer d.firstCall.Unlock()
		defer func() {
			if err == nil {
				d.answered.Store(true)
			}
		}()
	}
	sctx, cancel := context.WithTimeout(ctx, dispatchTimeout)
	defer cancel()
	existing, err = d.starter.Inbound(sctx, workflows.InboundInput{EventID: ev.ID, DedupKey: ev.DedupKey})
	if err != nil {
		return false, fmt.Errorf("hand inbound event: %w", err)
	}
	return existing, nil
}

func (d *Dispatcher) runSweep(ctx context.Context) {
	t := time.NewTicker(d.o.SweepEvery)
	defer t.Stop()
	for {
		d.sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.poke:
		}
	}
}

// sweep queues, in arrival order, every event not handed yet and not in
// flight.
func (d *Dispatcher) sweep(ctx context.Context) {
	if d.paused() {
		return
	}
	evs, err := d.o.Store.UnhandedInbound(ctx, dispatchBatch)
	if err != nil {
		if ctx.Err() == nil {
			d.o.Logger.WarnContext(ctx, "inbound sweep", "error", err)
		}
		return
	}
	queued := 0
	for _, ev := range evs {
		if !d.claim(ev.ID) {
			continue
		}
		select {
		case d.shardOf(ev) <- ev:
			queued++
		case <-ctx.Done():
			d.release(ev.ID)
			return
		}
	}
	if queued > 0 && len(evs) == dispatchBatch {
		d.Sweep() // more where these came from
	}
	if queued > 0 {
		d.o.Logger.DebugContext(ctx, "inbound sweep re-handed events", "count", queued)
	}
}
