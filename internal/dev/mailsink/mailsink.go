// Package mailsink is an SMTP server that keeps every mail it receives in
// memory. It is where `klaxon dev` sends email when no SMTP server is
// configured, and what Klaxon's tests send to: a real SMTP conversation, so
// the email provider is exercised end to end, with a way to make the next
// commands fail for error-classification tests.
package mailsink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/klaxonhq/klaxon/redact"
)

// maxMessageBytes bounds one mail; Klaxon's are a few kilobytes.
const maxMessageBytes = 10 << 20

// ErrClosed is returned by Wait once the sink is closed.
var ErrClosed = errors.New("mail sink closed")

// Mail is one received mail. From and To are the SMTP envelope (every
// recipient, Bcc included); the rest comes from the message itself.
type Mail struct {
	From       string    `json:"from"`
	To         []string  `json:"to"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	MessageID  string    `json:"message_id"`
	InReplyTo  string    `json:"in_reply_to,omitempty"`
	References string    `json:"references,omitempty"`
	Received   time.Time `json:"received"`
	// Raw is the message exactly as it arrived.
	Raw []byte `json:"-"`
}

// Sink is the in-memory SMTP server. It is safe for concurrent use.
type Sink struct {
	logger *slog.Logger
	server *smtp.Server

	mu         sync.Mutex
	mails      []Mail
	arrived    chan struct{} // closed and replaced whenever a mail arrives
	done       chan struct{} // closed by Close
	closed     bool
	listeners  []net.Listener
	addr       string
	rejectLeft int
	rejectCode int
}

// New returns a sink that logs to logger (nil discards logs). Start it with
// Serve.
func New(logger *slog.Logger) *Sink {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Sink{
		logger:  logger,
		arrived: make(chan struct{}),
		done:    make(chan struct{}),
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{sink: s}, nil
	}))
	srv.Domain = "mailsink.klaxon.local"
	srv.MaxMessageBytes = maxMessageBytes
	srv.MaxRecipients = 100
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	// Any credentials are accepted, over plain text, so that SMTP URLs
	// with user:pass work against the sink.
	srv.AllowInsecureAuth = true
	srv.ErrorLog = errorLog{logger: logger}
	s.server = srv
	return s
}

// Serve accepts SMTP connections on ln until Close; it then returns nil.
func (s *Sink) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ln.Close()
	}
	s.listeners = append(s.listeners, ln)
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	s.logger.Info("mail sink listening", "addr", ln.Addr().String())
	err := s.server.Serve(ln)
	if s.isClosed() {
		return nil
	}
	if err != nil {
		return fmt.Errorf("serve smtp: %w", err)
	}
	return nil
}

// Close stops the sink: listeners and open connections are closed and
// waiters get ErrClosed. Received mails stay readable.
func (s *Sink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	listeners := s.listeners
	s.mu.Unlock()
	err := s.server.Close()
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	for _, ln := range listeners {
		_ = ln.Close() // the server may have closed it already
	}
	return err
}

func (s *Sink) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Addr returns the address of the listener Serve was last started on, or ""
// before that.
func (s *Sink) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Mails returns every received mail, oldest first.
func (s *Sink) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Inbox returns the mails addressed to addr (compared case-insensitively),
// oldest first.
func (s *Sink) Inbox(addr string) []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Mail
	for _, m := range s.mails {
		if m.addressedTo(addr) {
			out = append(out, m)
		}
	}
	return out
}

// Wait returns the first mail, already received or still to come, that is
// addressed to to (any recipient if to is "") and satisfies match (any mail
// if match is nil). It gives up when ctx is done or the sink is closed.
func (s *Sink) Wait(ctx context.Context, to string, match func(Mail) bool) (Mail, error) {
	seen := 0
	for {
		s.mu.Lock()
		for ; seen < len(s.mails); seen++ {
			m := s.mails[seen]
			if (to == "" || m.addressedTo(to)) && (match == nil || match(m)) {
				s.mu.Unlock()
				return m, nil
			}
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-s.done:
			return Mail{}, ErrClosed
		case <-ctx.Done():
			return Mail{}, fmt.Errorf("wait for mail: %w", ctx.Err())
		}
	}
}

// RejectNext makes the next n RCPT or DATA commands fail with the SMTP
// code (e.g. 451 for a temporary failure, 550 for a permanent one).
func (s *Sink) RejectNext(n int, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectLeft, s.rejectCode = n, code
}

// rejection returns the error the next RCPT or DATA must fail with, if any.
func (s *Sink) rejection() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rejectLeft <= 0 {
		return nil
	}
	s.rejectLeft--
	return &smtp.SMTPError{
		Code:         s.rejectCode,
		EnhancedCode: smtp.EnhancedCodeNotSet,
		Message:      "rejected by the mail sink, as asked",
	}
}

// deliver stores a received mail and wakes waiters.
func (s *Sink) deliver(m Mail) {
	s.mu.Lock()
	s.mails = append(s.mails, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()
	s.logger.Info("mail received", "from", redact.Email(m.From), "recipients", len(m.To), "bytes", len(m.Raw))
}

func (m Mail) addressedTo(addr string) bool {
	for _, to := range m.To {
		if strings.EqualFold(to, addr) {
			return true
		}
	}
	return false
}

// session is one SMTP transaction's state.
type session struct {
	sink *Sink
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error { return nil }), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.sink.rejection(); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if err := ss.sink.rejection(); err != nil {
		_, _ = io.Copy(io.Discard, r)
		return err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parse(raw)
	m.From, m.To, m.Received = ss.from, append([]string(nil), ss.to...), time.Now()
	ss.sink.deliver(m)
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }

// errorLog sends go-smtp's own error log to slog.
type errorLog struct{ logger *slog.Logger }

func (l errorLog) Printf(format string, v ...any) {
	l.logger.Warn("smtp server error", "detail", fmt.Sprintf(format, v...))
}

func (l errorLog) Println(v ...any) {
	l.logger.Warn("smtp server error", "detail", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
