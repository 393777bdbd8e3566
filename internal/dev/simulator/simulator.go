// Package simulator is a Twilio-compatible HTTP server: the phone network of
// `klaxon dev` and the fake Twilio of Klaxon's tests. It serves the parts of
// Twilio's 2010-04-01 REST API that Klaxon uses (messages, calls, phone
// numbers) well enough for the unmodified twilio-go client, plays the phones
// on the other end (they receive texts, answer calls, listen to TwiML and
// press keys as told), and sends Twilio-signed webhooks back to Klaxon. A JSON
// control API under /sim/api/ and a small HTML page at / let a person (or the
// `klaxon sim` command) see what the phones received and text Klaxon.
//
// Time in the simulator is not simulated: statuses advance as fast as the
// webhooks are answered, except for a phone's configured ring delay.
package simulator

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Simulator.
type Config struct {
	// AccountSID and AuthToken are the credentials REST calls must present
	// with HTTP basic auth; AuthToken is also the key that signs webhooks.
	// With both empty any credentials are accepted.
	AccountSID, AuthToken string
	// InboundURL receives inbound SMS webhooks for numbers that have no
	// SmsUrl of their own, e.g. "http://localhost:8080/twilio/sms".
	InboundURL string
	// InboundVoiceURL receives the voice webhook of calls phones place to
	// numbers that have no VoiceUrl of their own, e.g.
	// "http://localhost:8080/twilio/voice", and InboundVoiceStatusURL
	// their status callbacks (empty: none).
	InboundVoiceURL, InboundVoiceStatusURL string
	// WordTime is how long a live call takes to say one word, so a person
	// can follow it; zero means 250 ms. Tests set it tiny.
	WordTime time.Duration
	// DefaultAnswer is how phones with no behaviour of their own take
	// calls; empty means AnswerHuman (at once, by themselves). `klaxon
	// dev` sets AnswerPerson, so a person can follow a call.
	DefaultAnswer string
	// Links are shown at the top of the page (the mail sink, the console,
	// Temporal's UI).
	Links []Link
	// Logger receives the simulator's logs; nil discards them.
	Logger *slog.Logger
	// HTTPClient sends webhooks; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Simulator is an in-memory Twilio and the phones behind it. Build one with
// New, serve its Handler, and Close it when done. It is safe for concurrent
// use.
type Simulator struct {
	cfg      Config
	log      *slog.Logger
	page     *template.Template
	client   *http.Client
	requests atomic.Int64

	// stop is cancelled by Close; every background webhook runs under it.
	stop   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// sem bounds how many background webhooks are in flight at once.
	sem chan struct{}

	mu         sync.Mutex
	closed     bool
	changed    chan struct{} // closed and replaced on every change
	messages   []*message
	msgBySID   map[string]*message
	calls      []*call
	callBySID  map[string]*call
	numbers    []*owned // numbers Klaxon owns, in the order bought
	behaviours map[string]Behaviour
	failures   []failure
}

// maxConcurrentWebhooks bounds the background webhooks in flight; each
// message's and each call's own webhooks are always sent one after another.
const maxConcurrentWebhooks = 16

// apiVersion is the Twilio REST API version the simulator speaks.
const apiVersion = "2010-04-01"

// New returns a Simulator configured by cfg, with no numbers, messages or
// calls.
func New(cfg Config) *Simulator {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	stop, cancel := context.WithCancel(context.Background())
	return &Simulator{
		cfg:        cfg,
		log:        logger,
		page:       parsePage(),
		client:     client,
		stop:       stop,
		cancel:     cancel,
		sem:        make(chan struct{}, maxConcurrentWebhooks),
		changed:    make(chan struct{}),
		msgBySID:   make(map[string]*message),
		callBySID:  make(map[string]*call),
		behaviours: make(map[string]Behaviour),
	}
}

// Close stops the background deliveries and calls (in-flight webhooks are
// abandoned) and waits for them to return. Messages and calls created after
// Close stay queued.
func (s *Simulator) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// goBackground runs f in a goroutine that Close waits for, unless the
// simulator is already closed. It reports whether f was started.
func (s *Simulator) goBackground(f func(ctx context.Context)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f(s.stop)
	}()
	return true
}

// Message is an SMS as the simulator recorded it.
type Message struct {
	SID    string `json:"sid"`
	From   string `json:"from"`
	To     string `json:"to"`
	Body   string `json:"body"`
	Status string `json:"status"`
	// Direction is "outbound-api" (sent by Klaxon through the REST API),
	// "outbound-reply" (sent by Klaxon as TwiML answering an inbound text)
	// or "inbound" (texted to Klaxon).
	Direction string    `json:"direction"`
	Created   time.Time `json:"created"`
	// ErrorCode is Twilio's error code for an undelivered or failed message.
	ErrorCode int `json:"error_code,omitempty"`
}

// Call is a voice call as the simulator recorded it.
type Call struct {
	SID    string `json:"sid"`
	From   string `json:"from"`
	To     string `json:"to"`
	Status string `json:"status"`
	// Direction is "outbound-api" (Klaxon called the phone) or "inbound"
	// (the phone called Klaxon).
	Direction string `json:"direction"`
	// Live reports a call a person is following now: it rings until they
	// answer, and its menus wait for the keys they press.
	Live bool `json:"live,omitempty"`
	// AnsweredBy is what answering machine detection found ("human",
	// "machine_start", "machine_end_beep"); empty when it was not requested.
	AnsweredBy string `json:"answered_by,omitempty"`
	// Transcript is every <Say> text the phone heard, in order.
	Transcript []string `json:"transcript"`
	// Digits holds the keys pressed, one entry per <Gather> answered.
	Digits  []string  `json:"digits"`
	Created time.Time `json:"created"`
}

// Link is a named URL the page shows.
type Link struct{ Name, URL string }

// Behaviour says how a phone acts when Klaxon texts or calls it.
type Behaviour struct {
	// Answer is how calls end or who picks up: "human" (the default: the
	// phone answers at once by itself and presses Press), "person" (it
	// rings until a person answers on the simulator's page or with
	// `klaxon sim answer`, and each menu waits for the keys they press),
	// "machine", "no-answer", "busy" or "fail".
	Answer string
	// Press is the digits an auto-answering phone ("human") presses at the
	// first <Gather> of a call; empty presses nothing. A machine never
	// presses, and a person presses keys live.
	Press string
	// SMSStatus is the final status of texts to this phone: "delivered"
	// (the default), "undelivered" or "failed".
	SMSStatus string
	// RingDelay is how long calls ring before the outcome; default none.
	RingDelay time.Duration
}

// The answers a phone can give.
const (
	AnswerHuman    = "human"
	AnswerPerson   = "person"
	AnswerMachine  = "machine"
	AnswerNoAnswer = "no-answer"
	AnswerBusy     = "busy"
	AnswerFail     = "fail"
)

// SetBehaviour sets how the phone number acts from now on; messages and
// calls already under way keep the behaviour they started with.
func (s *Simulator) SetBehaviour(number string, b Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.behaviours[number] = b
	s.notifyLocked()
}

// behaviour returns the phone's behaviour with defaults filled in.
func (s *Simulator) behaviour(number string) Behaviour {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.behaviourLocked(number)
}

// behaviourLocked is behaviour with s.mu held.
func (s *Simulator) behaviourLocked(number string) Behaviour {
	b := s.behaviours[number]
	if b.Answer == "" {
		b.Answer = s.cfg.DefaultAnswer
	}
	if b.Answer == "" {
		b.Answer = AnswerHuman
	}
	if b.SMSStatus == "" {
		b.SMSStatus = "delivered"
	}
	return b
}

// failure is an injected REST error.
type failure struct {
	remaining  int
	httpStatus int
	code       int
}

// FailNext makes the next n REST create calls (messages, calls, phone
// numbers) fail with a Twilio-shaped error of that HTTP status and Twilio
// code, e.g. 503/0 or 429/20429. Code -1 answers a non-JSON body instead,
// with status 502 when httpStatus is 0. Requests that fail authentication do
// not count.
func (s *Simulator) FailNext(n int, httpStatus int, twilioCode int) {
	if n <= 0 {
		return
	}
	if httpStatus == 0 {
		httpStatus = http.StatusInternalServerError
		if twilioCode == -1 {
			httpStatus = http.StatusBadGateway
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{remaining: n, httpStatus: httpStatus, code: twilioCode})
}

// nextFailure consumes one injected failure, if any is pending.
func (s *Simulator) nextFailure() (failure, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.failures) == 0 {
		return failure{}, false
	}
	f := s.failures[0]
	s.failures[0].remaining--
	if s.failures[0].remaining <= 0 {
		s.failures = s.failures[1:]
	}
	return f, true
}

// Requests returns how many REST API requests the simulator has served.
func (s *Simulator) Requests() int { return int(s.requests.Load()) }

// notifyLocked wakes everyone waiting for a change. s.mu must be held.
func (s *Simulator) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Messages returns every message, inbound and outbound, in the order they
// were created.
func (s *Simulator) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages))
	for _, m := range s.messages {
		out = append(out, m.Message)
	}
	return out
}

// Inbox returns the messages Klaxon sent to number, in order.
func (s *Simulator) Inbox(number string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.To == number && m.Direction != directionInbound {
			out = append(out, m.Message)
		}
	}
	return out
}

// Calls returns the calls Klaxon placed to number, in order.
func (s *Simulator) Calls(number string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.To == number && c.Direction == directionOutboundAPI {
			out = append(out, c.snapshot())
		}
	}
	return out
}

// WaitMessage blocks until a message to `to` (in either direction) for which
// match reports true exists, counting messages already there, and returns
// it; a nil match accepts any. It fails only when ctx ends.
func (s *Simulator) WaitMessage(ctx context.Context, to string, match func(Message) bool) (Message, error) {
	for {
		s.mu.Lock()
		for _, m := range s.messages {
			if m.To == to && (match == nil || match(m.Message)) {
				found := m.Message
				s.mu.Unlock()
				return found, nil
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("wait for message: %w", context.Cause(ctx))
		}
	}
}

// WaitCall blocks until a call to `to` for which match reports true has
// finished (its final status and callbacks are done), and returns it; a nil
// match accepts any. It fails only when ctx ends.
func (s *Simulator) WaitCall(ctx context.Context, to string, match func(Call) bool) (Call, error) {
	for {
		s.mu.Lock()
		for _, c := range s.calls {
			if c.To != to || !c.finished {
				continue
			}
			if snap := c.snapshot(); match == nil || match(snap) {
				s.mu.Unlock()
				return snap, nil
			}
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Call{}, fmt.Errorf("wait for call: %w", context.Cause(ctx))
		}
	}
}

// AddIncomingNumber makes number one that Klaxon owns, as if bought, with
// inbound texts going to smsURL (empty: Config.InboundURL). Adding a number
// already owned updates its SmsUrl.
func (s *Simulator) AddIncomingNumber(number, smsURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.numberByPhoneLocked(number); n != nil {
		n.smsURL = smsURL
		n.updated = time.Now().UTC()
		s.notifyLocked()
		return
	}
	s.addNumberLocked(&owned{phone: number, smsURL: smsURL})
}

// SetNumberLabel names what one of Klaxon's numbers is for ("paging
// number"), as its friendly name; the page shows it.
func (s *Simulator) SetNumberLabel(number, label string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.numberByPhoneLocked(number); n != nil {
		n.friendlyName = label
		s.notifyLocked()
	}
}

// phonesLocked lists every phone number the simulator has seen, sorted.
// s.mu must be held.
func (s *Simulator) phonesLocked() []string {
	seen := make(map[string]bool)
	for _, m := range s.messages {
		seen[m.From], seen[m.To] = true, true
	}
	for _, c := range s.calls {
		seen[c.From], seen[c.To] = true, true
	}
	for n := range s.behaviours {
		seen[n] = true
	}
	for _, n := range s.numbers {
		seen[n.phone] = true
	}
	delete(seen, "")
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
