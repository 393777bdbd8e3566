// Package email delivers Klaxon's messages by SMTP. Message-IDs are derived
// from the message ID, so a retried send carries the same Message-ID, and
// every email of one thread (a page and its follow-ups) references the same
// thread root, so mail clients group them. Failures come back as
// *klaxon.DeliveryError: SMTP 5xx is permanent, 4xx and network trouble are
// not.
package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/redact"
)

// Defaults for Config.
const (
	DefaultFrom    = "klaxon@localhost"
	DefaultTimeout = 15 * time.Second
)

// maxSubjectLen is how many characters of the body's first line make a
// subject when the message has none.
const maxSubjectLen = 70

// Config is what a Sender needs.
type Config struct {
	// URL is KLAXON_SMTP_URL: smtp://[user:pass@]host:port[?tls=none|starttls|tls].
	URL string
	// From is the sender address (KLAXON_EMAIL_FROM); empty means
	// DefaultFrom. It may carry a display name: "Klaxon <klaxon@example.com>".
	From string
	// Timeout bounds connecting and each stage of the SMTP conversation;
	// zero means DefaultTimeout.
	Timeout time.Duration
}

// Sender sends email through one SMTP server. It is safe for concurrent
// use; each Send opens its own connection.
type Sender struct {
	settings Settings
	from     *mail.Address
	domain   string
	timeout  time.Duration
}

// New validates cfg and returns a Sender for it. It does not connect.
func New(cfg Config) (*Sender, error) {
	settings, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	if cfg.From == "" {
		cfg.From = DefaultFrom
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: from address %q is not an email address", cfg.From)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("email: timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Sender{settings: settings, from: from, domain: domainOf(from.Address), timeout: cfg.Timeout}, nil
}

// Send delivers m as a plain-text email to m.To. Its Message-ID is
// MessageID(m.ID, domain) and, when m.ThreadKey is set, In-Reply-To and
// References name ThreadRoot(m.ThreadKey, domain). The receipt's
// ProviderID is the Message-ID, its status "sent" (accepted by the server).
func (s *Sender) Send(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	msg, id, err := s.compose(m)
	if err != nil {
		return klaxon.Receipt{}, err
	}
	timeout := s.timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
	}
	if err := ctx.Err(); err != nil || timeout <= 0 {
		if err == nil {
			err = context.DeadlineExceeded
		}
		return klaxon.Receipt{}, classify(err)
	}
	client, err := gomail.NewClient(s.settings.Host, s.options(timeout)...)
	if err != nil {
		return klaxon.Receipt{}, classify(err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return klaxon.Receipt{}, classify(err)
	}
	return klaxon.Receipt{ProviderID: id, Status: klaxon.StatusSent}, nil
}

// compose builds the message and returns it with its Message-ID.
func (s *Sender) compose(m klaxon.Message) (*gomail.Msg, string, error) {
	if m.ID == "" {
		return nil, "", invalid("InvalidRequest", "the message has no ID")
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, "", invalid("InvalidAddress", fmt.Sprintf("recipient %s is not an email address", redact.Email(m.To)))
	}
	from := s.from
	if m.From != "" {
		if from, err = mail.ParseAddress(m.From); err != nil {
			return nil, "", invalid("InvalidAddress", fmt.Sprintf("sender %s is not an email address", redact.Email(m.From)))
		}
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.Subject(subject(m))
	msg.SetMessageIDWithValue(atom(m.ID) + "@" + s.domain)
	id := msg.GetMessageID() // MessageID(m.ID, s.domain)
	if m.ThreadKey != "" {
		root := ThreadRoot(m.ThreadKey, s.domain)
		msg.SetGenHeader(gomail.HeaderInReplyTo, root)
		msg.SetGenHeader(gomail.HeaderReferences, root)
	}
	// RFC 3834: tell vacation responders not to answer.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetUserAgent("Klaxon")
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return msg, id, nil
}

// options turns the settings into go-mail client options.
func (s *Sender) options(timeout time.Duration) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.settings.Port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.settings.Host, MinVersion: tls.VersionTLS12}),
		gomail.WithoutNoop(), // the connection is fresh; skip a round trip
	}
	switch s.settings.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.settings.Username != "" {
		opts = append(opts, gomail.WithUsername(s.settings.Username), gomail.WithPassword(s.settings.Password))
		if s.settings.TLS == TLSNone {
			// tls=none with credentials is the operator's explicit choice
			// to send them in plain text.
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlainNoEnc, gomail.SMTPAuthLoginNoEnc))
		} else {
			// PLAIN and LOGIN refuse to send credentials unencrypted to
			// anything but localhost.
			opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256, gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
		}
	}
	return opts
}

// MessageID is the Message-ID header of the email carrying the message with
// the given ID, sent from domain: stable, so a retry is recognisable as the
// same email.
func MessageID(messageID, domain string) string {
	return "<" + atom(messageID) + "@" + domain + ">"
}

// ThreadRoot is the Message-ID every email of a thread replies to. No email
// carries it as its own Message-ID — a stateless sender cannot know which
// email is the first — but mail clients thread on the shared reference
// alone.
func ThreadRoot(threadKey, domain string) string {
	return "<thread-" + atom(threadKey) + "@" + domain + ">"
}

// atom makes s safe as the left part of a Message-ID (RFC 5322 dot-atom):
// letters, digits, '-' and '_' stay, every other byte becomes "=XX". The
// mapping is one-to-one, so distinct IDs stay distinct.
func atom(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// subject is m.Subject or, without one, the first line of the body cut to
// maxSubjectLen characters.
func subject(m klaxon.Message) string {
	if s := strings.TrimSpace(m.Subject); s != "" {
		return s
	}
	line := strings.TrimSpace(m.Body)
	if i := strings.IndexAny(line, "\r\n"); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	if line == "" {
		return "Klaxon"
	}
	if utf8.RuneCountInString(line) > maxSubjectLen {
		r := []rune(line)
		line = strings.TrimSpace(string(r[:maxSubjectLen-1])) + "…"
	}
	return line
}

func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 && at < len(addr)-1 {
		return addr[at+1:]
	}
	return "localhost"
}
