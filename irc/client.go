package irc

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotConnected is returned (wrapped) by Say and Notice while the client
// is not registered on the server, or when the connection broke while the
// lines were being written. It is retryable: nothing is buffered, the
// caller tries again later.
var ErrNotConnected = errors.New("irc: not connected")

// ErrRefused is returned (wrapped, with the server's numeric and reason)
// when the server answered a line Say sent with an error instead of
// relaying it: no such nick, cannot send to channel. It is known only
// where the server has echo-message and labeled-response.
var ErrRefused = errors.New("irc: refused by the server")

// ErrUnconfirmed is returned (wrapped) when a line was written but the
// server, which confirms lines (echo-message and labeled-response), did
// not confirm it in time or the connection broke first: it may or may not
// have been delivered.
var ErrUnconfirmed = errors.New("irc: not confirmed by the server")

// ErrInvalid is returned (wrapped) for a configuration, target or line the
// client will never be able to send; retrying does not help.
var ErrInvalid = errors.New("irc: invalid")

// Config is how a Client connects. Only Server and Nick are required; zero
// values take the defaults named on each field.
type Config struct {
	// Server is host:port.
	Server string
	// TLS connects with TLS and verifies the server's certificate against
	// the system roots, plus CAFile when set (a PEM file of CA
	// certificates, for a private CA).
	TLS    bool
	CAFile string
	// Nick is the wanted nick. While it is taken the client uses a
	// fallback (Nick_, then Nick and digits) and takes Nick back when it
	// comes free.
	Nick string
	// User is the ident (default: Nick); RealName the gecos (default
	// "Klaxon").
	User, RealName string
	// Password is sent as SASL PLAIN (account = Nick) when the server
	// offers SASL, else as PASS.
	Password string
	// Channels are joined on connect, again after every reconnect, and
	// again a few seconds after a KICK.
	Channels []string
	// Logger receives connection events (never message texts or
	// passwords). Default: discard.
	Logger *slog.Logger
	// Burst and Rate are the flood control applied to every line sent:
	// Burst lines at once (default 5), then Rate lines a second (default 1).
	Burst int
	Rate  float64
	// PingInterval is how long the connection may be silent before the
	// client PINGs the server itself (default 60s); LagTimeout how long it
	// then waits for the PONG before it drops the connection and
	// reconnects (default 60s).
	PingInterval, LagTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts, doubled each failed attempt, with jitter (defaults 1s, 2m).
	MinBackoff, MaxBackoff time.Duration
}

// Version is what the client answers to CTCP VERSION.
const Version = "Klaxon IRC client"

// wantedCaps are the IRCv3 capabilities requested when offered, in the
// order requested.
func wantedCaps() []string {
	return []string{
		"sasl", "message-tags", "account-tag", "account-notify", "server-time", "echo-message",
		"batch", "labeled-response", "extended-join", "multi-prefix",
	}
}

// Client is one bot connection to an IRC server, kept up by Run. Say and
// Notice may be called from any goroutine.
type Client struct {
	cfg Config
	log *slog.Logger
	tls *tls.Config

	// now and jitter are the clock and the random source; tests set them.
	now    func() time.Time
	jitter func() float64
	// Delays that are not configuration (tests shorten them).
	regainEvery, rejoinDelay, registerTimeout, ctcpEvery, writeTimeout, confirmTimeout time.Duration

	bucket  *bucket
	sayMu   sync.Mutex
	running atomic.Bool

	mu          sync.Mutex
	sess        *session // the registered connection, nil while there is none
	hasAccounts bool
}

// New checks cfg and returns a Client that is not yet connected: call Run.
func New(cfg Config) (*Client, error) {
	host, _, err := net.SplitHostPort(cfg.Server)
	if err != nil || host == "" {
		return nil, fmt.Errorf("irc server %q is not host:port: %w", cfg.Server, ErrInvalid)
	}
	if cfg.Nick == "" || strings.ContainsAny(cfg.Nick, " ,*?!@:#&\x00\r\n") {
		return nil, fmt.Errorf("irc nick %q cannot be a nick: %w", cfg.Nick, ErrInvalid)
	}
	for _, ch := range cfg.Channels {
		if ch == "" || strings.ContainsAny(ch, " ,\x07\x00\r\n") {
			return nil, fmt.Errorf("irc channel %q cannot be a channel: %w", ch, ErrInvalid)
		}
	}
	if cfg.User == "" {
		cfg.User = cfg.Nick
	}
	if cfg.RealName == "" {
		cfg.RealName = "Klaxon"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Burst < 1 {
		cfg.Burst = 5
	}
	if cfg.Rate <= 0 {
		cfg.Rate = 1
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = time.Minute
	}
	if cfg.LagTimeout <= 0 {
		cfg.LagTimeout = time.Minute
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if cfg.MaxBackoff < cfg.MinBackoff {
		cfg.MaxBackoff = max(2*time.Minute, cfg.MinBackoff)
	}
	c := &Client{
		cfg: cfg, log: cfg.Logger, now: time.Now, jitter: defaultJitter,
		regainEvery: 30 * time.Second, rejoinDelay: 3 * time.Second, registerTimeout: time.Minute,
		ctcpEvery: 3 * time.Second, writeTimeout: 15 * time.Second, confirmTimeout: 20 * time.Second,
	}
	c.bucket = newBucket(cfg.Burst, cfg.Rate, c.now())
	if cfg.TLS {
		c.tls = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("irc ca file: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("irc ca file %s holds no PEM certificate: %w", cfg.CAFile, ErrInvalid)
			}
			c.tls.RootCAs = pool
		}
	}
	return c, nil
}

// Connected reports whether the client is registered on the server now and
// has asked to join its channels; Say works only then.
func (c *Client) Connected() bool { return c.current() != nil }

// Nick is the nick the client has on the server now (a fallback while the
// wanted one is taken), or the wanted nick while disconnected.
func (c *Client) Nick() string {
	if s := c.current(); s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.nick
	}
	return c.cfg.Nick
}

// HasAccounts reports whether the server has accounts (it offered SASL or
// account-tag when the client last connected). Where it has none, an
// Event's Account is always empty and a sender is known by nick alone —
// which anyone can take.
func (c *Client) HasAccounts() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hasAccounts
}

// Fold maps a nick or channel name to the form the server compares names
// in (its CASEMAPPING; rfc1459 until it says otherwise), so callers can
// match a sender's nick with a stored one.
func (c *Client) Fold(name string) string {
	if s := c.current(); s != nil {
		return s.support().Fold(name)
	}
	return defaultISupport().Fold(name)
}

func (c *Client) current() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// Say sends text to target (a channel or a nick) as PRIVMSG lines: one per
// line of text, each split at spaces (or, in a long word, at UTF-8 rune
// boundaries) to fit the server's LINELEN once the server has put our
// nick!user@host in front. It waits for flood control and returns once
// every line was written to the connection, or with an error: wrapping
// ErrNotConnected while disconnected (nothing is buffered; retry later —
// if the connection broke mid-way, the lines before the break were sent),
// ErrInvalid for a target that cannot be one, or ctx's error.
//
// Where the server has echo-message and labeled-response, Say also waits
// for the server to confirm each line (its echo) and returns ErrRefused
// when the server answered with an error instead, or ErrUnconfirmed when
// no answer came.
func (c *Client) Say(ctx context.Context, target, text string) error {
	return c.say(ctx, "PRIVMSG", target, text)
}

// Notice is Say with NOTICE lines, which by convention bots never answer.
func (c *Client) Notice(ctx context.Context, target, text string) error {
	return c.say(ctx, "NOTICE", target, text)
}

func (c *Client) say(ctx context.Context, cmd, target, text string) error {
	if target == "" || strings.ContainsAny(target, " ,:\x00\r\n") {
		return fmt.Errorf("say to %q: %w", target, ErrInvalid)
	}
	s := c.current()
	if s == nil {
		return fmt.Errorf("say: %w", ErrNotConnected)
	}
	budget := s.textBudget(cmd, target)
	if budget < 32 {
		return fmt.Errorf("say to %q: target too long for a line: %w", target, ErrInvalid)
	}
	var pieces []string
	for _, l := range lines(text) {
		pieces = append(pieces, Split(l, budget)...)
	}
	c.sayMu.Lock()
	defer c.sayMu.Unlock()
	for _, p := range pieces {
		if err := s.sendConfirmed(ctx, Message{Command: cmd, Params: []string{target, p}}); err != nil {
			return fmt.Errorf("say: %w", err)
		}
	}
	return nil
}

// Run connects and stays connected until ctx is done: it registers
// (CAP, SASL or PASS, NICK, USER), joins the channels, answers PINGs,
// checks the lag, and reconnects with backoff whenever the connection is
// lost. It calls handle, one event at a time in the order received, for
// what people say and for the connection coming and going; handle runs
// apart from the connection, so a slow handler does not stall PONGs (but
// events beyond a large queue are dropped, and logged). Run returns ctx's
// error on shutdown, after handle has returned.
func (c *Client) Run(ctx context.Context, handle func(context.Context, Event)) error {
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("irc: Run is already running")
	}
	defer c.running.Store(false)
	events := make(chan Event, 4096)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-events:
				handle(ctx, ev)
			}
		}
	}()
	defer wg.Wait()
	for attempt := 0; ; {
		registered, err := c.connect(ctx, events)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if registered {
			attempt = 0
		}
		wait := backoff(attempt, c.cfg.MinBackoff, c.cfg.MaxBackoff, c.jitter())
		attempt++
		c.log.Warn("irc connection lost", "server", c.cfg.Server, "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: 20 * time.Second, KeepAlive: 30 * time.Second}
	if c.tls != nil {
		td := &tls.Dialer{NetDialer: d, Config: c.tls}
		return td.DialContext(ctx, "tcp", c.cfg.Server)
	}
	return d.DialContext(ctx, "tcp", c.cfg.Server)
}

// connect runs one connection until it ends; registered tells whether it
// got as far as registering.
func (c *Client) connect(ctx context.Context, events chan<- Event) (registered bool, err error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return false, fmt.Errorf("connect %s: %w", c.cfg.Server, err)
	}
	c.bucket.reset(c.now())
	s := newSession(c, conn, events)
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-ctx.Done():
			s.quit("shutting down")
		case <-s.done:
		}
	}()
	go s.keepalive(sctx)
	err = s.readLoop(sctx)
	s.close(err)
	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	c.mu.Unlock()
	s.mu.Lock()
	registered = s.registered
	s.mu.Unlock()
	if registered {
		s.emit(Event{Kind: KindDisconnected, Time: c.now()})
	}
	return registered, s.cause()
}

// session is one TCP (or TLS) connection to the server and what the client
// has learnt on it.
type session struct {
	c      *Client
	conn   net.Conn
	events chan<- Event

	wmu sync.Mutex

	done      chan struct{}
	closeOnce sync.Once
	err       error

	lastRecv atomic.Int64 // unix nanoseconds
	regOnce  sync.Once

	mu          sync.Mutex
	nick        string
	userHost    string
	is          ISupport
	offered     map[string]string
	lsDone      bool
	enabled     map[string]bool
	registered  bool
	joined      bool
	nickTry     int
	accounts    map[string]string // folded nick → account, where no account-tag
	pingSent    time.Time
	lastRegain  time.Time
	lastCTCP    time.Time
	saslPending bool
	labels      map[string]chan Message // label → who waits for the answer
	labelSeq    int
}

func newSession(c *Client, conn net.Conn, events chan<- Event) *session {
	s := &session{
		c: c, conn: conn, events: events, done: make(chan struct{}),
		nick: c.cfg.Nick, is: defaultISupport(), offered: map[string]string{},
		enabled: map[string]bool{}, accounts: map[string]string{}, labels: map[string]chan Message{},
	}
	s.lastRecv.Store(c.now().UnixNano())
	return s
}

func (s *session) close(err error) {
	s.closeOnce.Do(func() {
		if err == nil {
			err = io.EOF
		}
		s.err = err
		close(s.done)
		_ = s.conn.Close()
	})
}

func (s *session) cause() error {
	<-s.done
	return s.err
}

func (s *session) support() ISupport {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.is
}

func (s *session) emit(ev Event) {
	select {
	case s.events <- ev:
	default:
		s.c.log.Error("irc event dropped: the handler is too slow", "kind", ev.Kind.String())
	}
}

// send writes one line after flood control. It refuses a line longer than
// LINELEN (ngircd would drop the connection; InspIRCd would cut it).
func (s *session) send(ctx context.Context, m Message, urgent bool) error {
	line, err := Format(m)
	if err != nil {
		return fmt.Errorf("send %s: %w: %w", m.Command, ErrInvalid, err)
	}
	body := line
	if strings.HasPrefix(body, "@") {
		_, body, _ = strings.Cut(body, " ")
	}
	if limit := s.support().LineLen; len(body)+2 > limit {
		return fmt.Errorf("send %s: line of %d bytes over the server's %d: %w", m.Command, len(body)+2, limit, ErrInvalid)
	}
	select {
	case <-s.done:
		return fmt.Errorf("send %s: %w", m.Command, ErrNotConnected)
	default:
	}
	if wait := s.c.bucket.reserve(s.c.now(), urgent); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("send %s: %w", m.Command, ctx.Err())
		case <-s.done:
			t.Stop()
			return fmt.Errorf("send %s: %w", m.Command, ErrNotConnected)
		case <-t.C:
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	select {
	case <-s.done:
		return fmt.Errorf("send %s: %w", m.Command, ErrNotConnected)
	default:
	}
	_ = s.conn.SetWriteDeadline(s.c.now().Add(s.c.writeTimeout))
	if _, err := io.WriteString(s.conn, line+"\r\n"); err != nil {
		s.close(fmt.Errorf("write: %w", err))
		return fmt.Errorf("send %s: %w: %w", m.Command, ErrNotConnected, err)
	}
	return nil
}

// sendConfirmed sends m and, where the server confirms lines, waits for
// the server's labelled answer: the echo (or an ACK or a batch) means the
// line was accepted, an error numeric or FAIL that it was refused.
func (s *session) sendConfirmed(ctx context.Context, m Message) error {
	s.mu.Lock()
	confirm := s.enabled["labeled-response"] && s.enabled["echo-message"]
	label := ""
	ch := make(chan Message, 1)
	if confirm {
		s.labelSeq++
		label = "k" + strconv.Itoa(s.labelSeq)
		s.labels[label] = ch
	}
	s.mu.Unlock()
	if !confirm {
		return s.send(ctx, m, false)
	}
	defer func() {
		s.mu.Lock()
		delete(s.labels, label)
		s.mu.Unlock()
	}()
	m.Tags = map[string]string{"label": label}
	if err := s.send(ctx, m, false); err != nil {
		return err
	}
	t := time.NewTimer(s.c.confirmTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		if refusal(r) {
			return fmt.Errorf("send %s to %s: %s %s: %w", m.Command, m.Param(0), r.Command, r.Param(len(r.Params)-1), ErrRefused)
		}
		return nil
	case <-s.done:
		return fmt.Errorf("send %s: connection lost before the server confirmed: %w", m.Command, ErrUnconfirmed)
	case <-t.C:
		return fmt.Errorf("send %s: no confirmation in %s: %w", m.Command, s.c.confirmTimeout, ErrUnconfirmed)
	case <-ctx.Done():
		return fmt.Errorf("send %s: %w", m.Command, ctx.Err())
	}
}

// refusal tells an error answer (a 4xx/5xx numeric, FAIL) from an echo.
func refusal(m Message) bool {
	if m.Command == "FAIL" {
		return true
	}
	return len(m.Command) == 3 && (m.Command[0] == '4' || m.Command[0] == '5')
}

// sendAsync sends from a goroutine of its own, so the reader never waits
// for flood control; a failure is logged.
func (s *session) sendAsync(ctx context.Context, m Message) {
	go func() {
		if err := s.send(ctx, m, false); err != nil {
			s.c.log.Debug("irc send failed", "command", m.Command, "err", err)
		}
	}()
}

func (s *session) sendNow(m Message) {
	if err := s.send(context.Background(), m, true); err != nil {
		s.c.log.Debug("irc send failed", "command", m.Command, "err", err)
	}
}

func (s *session) quit(reason string) {
	s.sendNow(Message{Command: "QUIT", Params: []string{reason}})
	s.close(errors.New("quit"))
}

// textBudget is how many bytes of text fit in one "cmd target :text" line
// as the server relays it, with ":nick!user@host " in front.
func (s *session) textBudget(cmd, target string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	nick := max(len(s.nick), len(s.c.cfg.Nick)) // a regain may lengthen the nick
	uh := len(s.userHost)
	if s.userHost == "" {
		uh = 1 + s.is.UserLen + 1 + s.is.HostLen // "~" ident "@" host
	}
	overhead := 1 + nick + 1 + uh + 1 + len(cmd) + 1 + len(target) + 2 + 2
	return s.is.LineLen - overhead
}

// keepalive PINGs a silent server, drops a lagging connection, and tries
// to take the wanted nick back.
func (s *session) keepalive(ctx context.Context) {
	c := s.c
	tick := min(c.cfg.PingInterval, c.cfg.LagTimeout, c.regainEvery) / 4
	tick = max(tick, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case <-t.C:
		}
		now := c.now()
		s.mu.Lock()
		pingSent, registered := s.pingSent, s.registered
		silent := now.Sub(time.Unix(0, s.lastRecv.Load()))
		regain := registered && s.is.Monitor == 0 && c.onFallback(s.nick, s.is) && now.Sub(s.lastRegain) >= c.regainEvery
		if regain {
			s.lastRegain = now
		}
		s.mu.Unlock()
		switch {
		case !pingSent.IsZero() && now.Sub(pingSent) > c.cfg.LagTimeout:
			c.log.Warn("irc lag timeout", "server", c.cfg.Server, "waited", now.Sub(pingSent))
			s.close(fmt.Errorf("lag timeout: no PONG in %s", c.cfg.LagTimeout))
			return
		case pingSent.IsZero() && silent >= c.cfg.PingInterval:
			s.mu.Lock()
			s.pingSent = now
			s.mu.Unlock()
			s.sendNow(Message{Command: "PING", Params: []string{"klaxon-lag"}})
		}
		if regain {
			s.sendAsync(ctx, Message{Command: "ISON", Params: []string{c.cfg.Nick}})
		}
	}
}

// onFallback reports whether the nick we have is not the wanted one.
func (c *Client) onFallback(have string, is ISupport) bool {
	return is.Fold(have) != is.Fold(c.cfg.Nick)
}

// readLoop reads and handles lines until the connection ends.
func (s *session) readLoop(ctx context.Context) error {
	c := s.c
	regTimer := time.AfterFunc(c.registerTimeout, func() {
		s.mu.Lock()
		reg := s.registered
		s.mu.Unlock()
		if !reg {
			s.close(fmt.Errorf("not registered after %s", c.registerTimeout))
		}
	})
	defer regTimer.Stop()
	// Ask for capabilities first; servers that know no CAP, or do not
	// answer, get PASS, NICK and USER after a few seconds anyway.
	s.sendNow(Message{Command: "CAP", Params: []string{"LS", "302"}})
	capTimer := time.AfterFunc(5*time.Second, func() { s.register(false) })
	defer capTimer.Stop()

	r := bufio.NewReaderSize(s.conn, 16<<10)
	for {
		line, tooLong, err := readLine(r)
		if err != nil {
			select {
			case <-s.done:
				return s.err
			default:
			}
			return fmt.Errorf("read: %w", err)
		}
		s.lastRecv.Store(c.now().UnixNano())
		if tooLong {
			c.log.Warn("irc line over 16 KiB from the server ignored", "server", c.cfg.Server)
			continue
		}
		m, err := Parse(line)
		if err != nil {
			if strings.TrimSpace(line) != "" {
				c.log.Warn("irc malformed line from the server ignored", "server", c.cfg.Server, "bytes", len(line))
			}
			continue
		}
		if err := s.handle(ctx, m); err != nil {
			return err
		}
	}
}

// readLine reads one line; a line longer than the buffer is discarded
// whole and reported as tooLong.
func readLine(r *bufio.Reader) (line string, tooLong bool, err error) {
	b, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		for err == bufio.ErrBufferFull {
			_, err = r.ReadSlice('\n')
		}
		return "", true, err
	}
	if err != nil {
		return "", false, err
	}
	return string(b), false, nil
}

// register sends PASS (unless SASL will carry the password), NICK and
// USER, once.
func (s *session) register(sasl bool) {
	s.regOnce.Do(func() {
		cfg := s.c.cfg
		if cfg.Password != "" && !sasl {
			s.sendNow(Message{Command: "PASS", Params: []string{cfg.Password}})
		}
		s.sendNow(Message{Command: "NICK", Params: []string{cfg.Nick}})
		s.sendNow(Message{Command: "USER", Params: []string{cfg.User, "0", "*", cfg.RealName}})
	})
}

// fallbackNick is the nick to try after n refusals: Nick_, then Nick and
// digits, cut to NICKLEN.
func (s *session) fallbackNick(n int) string {
	s.mu.Lock()
	nicklen := s.is.NickLen
	s.mu.Unlock()
	want := s.c.cfg.Nick
	suffix := "_"
	if n > 1 {
		suffix = strconv.Itoa(10 + int(s.c.jitter()*990))
	}
	if len(want)+len(suffix) > nicklen && nicklen > len(suffix) {
		want = want[:nicklen-len(suffix)]
	}
	return want + suffix
}
