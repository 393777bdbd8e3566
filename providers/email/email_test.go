package email_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/providers/email"
)

const rcpt = "oncall.person@example.org"

// startSink runs a mail sink on 127.0.0.1 and returns it with its address.
func startSink(t testing.TB) (*mailsink.Sink, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := mailsink.New(nil)
	done := make(chan error, 1)
	go func() { done <- sink.Serve(ln) }()
	t.Cleanup(func() {
		if err := sink.Close(); err != nil {
			t.Errorf("close sink: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return sink, ln.Addr().String()
}

func newSender(t testing.TB, cfg email.Config) *email.Sender {
	t.Helper()
	s, err := email.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func waitMail(t *testing.T, sink *mailsink.Sink, to string) mailsink.Mail {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := sink.Wait(ctx, to, nil)
	if err != nil {
		t.Fatalf("no mail for %s: %v", to, err)
	}
	return m
}

func deliveryError(t *testing.T, err error) *klaxon.DeliveryError {
	t.Helper()
	var de *klaxon.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *klaxon.DeliveryError", err, err)
	}
	if strings.Contains(err.Error(), rcpt) || (de.Err != nil && strings.Contains(de.Err.Error(), rcpt)) {
		t.Errorf("error %q leaks the recipient's address", de.Err)
	}
	return de
}

func TestSend_DeliversThreadedPlainText(t *testing.T) {
	long := "Page 3: the primary database in eu-west-1 stopped accepting writes at 03:12 UTC and replicas lag\nsecond line"
	tests := []struct {
		name            string
		msg             klaxon.Message
		wantSubject     string
		wantBody        string
		wantMessageID   string
		wantThreadRoot  string
		wantEnvelopeFor string
	}{
		{
			name:          "subject given",
			msg:           klaxon.Message{ID: "msg-1", To: rcpt, Subject: "Page 3: derp is broken", Body: "Reply 3a to ack."},
			wantSubject:   "Page 3: derp is broken",
			wantBody:      "Reply 3a to ack.",
			wantMessageID: "<msg-1@example.com>",
		},
		{
			name:          "subject from the first line of the body",
			msg:           klaxon.Message{ID: "msg-2", To: rcpt, Body: long},
			wantSubject:   "Page 3: the primary database in eu-west-1 stopped accepting writes at…",
			wantBody:      long,
			wantMessageID: "<msg-2@example.com>",
		},
		{
			name:           "thread key sets In-Reply-To and References",
			msg:            klaxon.Message{ID: "page-3/escalation-2", To: rcpt, Subject: "Re: Page 3", Body: "Still open.", ThreadKey: "page-3"},
			wantSubject:    "Re: Page 3",
			wantBody:       "Still open.",
			wantMessageID:  "<page-3=2Fescalation-2@example.com>",
			wantThreadRoot: "<thread-page-3@example.com>",
		},
		{
			name:          "non-ASCII text survives encoding",
			msg:           klaxon.Message{ID: "msg-4", To: rcpt, Subject: "Störung – Straße ✓", Body: "Größe: 3 × 4 = 12 ✓\n\nline with = sign and a very long tail that must be soft-wrapped by quoted-printable encoding somewhere"},
			wantSubject:   "Störung – Straße ✓",
			wantBody:      "Größe: 3 × 4 = 12 ✓\n\nline with = sign and a very long tail that must be soft-wrapped by quoted-printable encoding somewhere",
			wantMessageID: "<msg-4@example.com>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, addr := startSink(t)
			s := newSender(t, email.Config{URL: "smtp://" + addr, From: "Klaxon <klaxon@example.com>"})
			r, err := s.Send(context.Background(), tt.msg)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := waitMail(t, sink, rcpt)
			if got.Subject != tt.wantSubject {
				t.Errorf("Subject = %q, want %q", got.Subject, tt.wantSubject)
			}
			if got.Body != tt.wantBody {
				t.Errorf("Body = %q, want %q", got.Body, tt.wantBody)
			}
			if got.MessageID != tt.wantMessageID || r.ProviderID != tt.wantMessageID {
				t.Errorf("Message-ID = %q, receipt %q, want %q", got.MessageID, r.ProviderID, tt.wantMessageID)
			}
			if got.InReplyTo != tt.wantThreadRoot || got.References != tt.wantThreadRoot {
				t.Errorf("In-Reply-To = %q, References = %q, want %q", got.InReplyTo, got.References, tt.wantThreadRoot)
			}
			if got.From != "klaxon@example.com" || len(got.To) != 1 || got.To[0] != rcpt {
				t.Errorf("envelope = %s -> %v", got.From, got.To)
			}
			if r.Status != klaxon.StatusSent {
				t.Errorf("receipt status = %q, want sent", r.Status)
			}
			if !strings.Contains(string(got.Raw), "Auto-Submitted: auto-generated") {
				t.Error("Auto-Submitted header missing")
			}
		})
	}
}

func TestSend_RetryKeepsMessageID(t *testing.T) {
	sink, addr := startSink(t)
	s := newSender(t, email.Config{URL: "smtp://" + addr})
	m := klaxon.Message{ID: "msg-retry", To: rcpt, Body: "once", ThreadKey: "page-9"}
	sink.RejectNext(1, 451)
	if _, err := s.Send(context.Background(), m); err == nil {
		t.Fatal("first attempt succeeded despite the rejection")
	}
	r, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	got := waitMail(t, sink, rcpt)
	if got.MessageID != "<msg-retry@localhost>" || r.ProviderID != got.MessageID {
		t.Errorf("Message-ID = %q, receipt %q", got.MessageID, r.ProviderID)
	}
}

func TestSend_ClassifiesServerReplies(t *testing.T) {
	tests := []struct {
		name          string
		code          int
		wantPermanent bool
		wantKind      string
	}{
		{"mailbox unavailable is permanent", 550, true, "MailboxRejected"},
		{"no such user is permanent", 551, true, "MailboxRejected"},
		{"greylisting is transient", 451, false, "MailUnavailable"},
		{"mailbox busy is transient", 450, false, "MailUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, addr := startSink(t)
			s := newSender(t, email.Config{URL: "smtp://" + addr})
			sink.RejectNext(1, tt.code)
			_, err := s.Send(context.Background(), klaxon.Message{ID: "m", To: rcpt, Body: "x"})
			de := deliveryError(t, err)
			wantCode := "smtp " + itoa(tt.code)
			if de.Permanent != tt.wantPermanent || de.Kind != tt.wantKind || de.Code != wantCode {
				t.Errorf("got permanent=%v kind=%s code=%q (%v), want %v %s %s",
					de.Permanent, de.Kind, de.Code, err, tt.wantPermanent, tt.wantKind, wantCode)
			}
			if n := len(sink.Mails()); n != 0 {
				t.Errorf("sink holds %d mails after a rejection", n)
			}
		})
	}
}

func itoa(n int) string {
	const digits = "0123456789"
	return string([]byte{digits[n/100], digits[n/10%10], digits[n%10]})
}

func TestSend_ConnectionFailuresAreTransient(t *testing.T) {
	refused := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	silent := func(t *testing.T) string {
		// Accepts connections but never greets.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		return ln.Addr().String()
	}
	tests := []struct {
		name     string
		addr     func(*testing.T) string
		wantCode string
	}{
		{"connection refused", refused, ""},
		{"server never answers", silent, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSender(t, email.Config{URL: "smtp://" + tt.addr(t), Timeout: 100 * time.Millisecond})
			_, err := s.Send(context.Background(), klaxon.Message{ID: "m", To: rcpt, Body: "x"})
			de := deliveryError(t, err)
			if de.Permanent || de.Kind != "Network" || de.Code != tt.wantCode {
				t.Errorf("got %+v (%v), want transient Network %q", de, err, tt.wantCode)
			}
		})
	}
}

func TestSend_CancelledContextIsTransient(t *testing.T) {
	_, addr := startSink(t)
	s := newSender(t, email.Config{URL: "smtp://" + addr})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Send(ctx, klaxon.Message{ID: "m", To: rcpt, Body: "x"})
	de := deliveryError(t, err)
	if de.Permanent || !errors.Is(err, context.Canceled) {
		t.Errorf("got %+v (%v), want transient wrapping context.Canceled", de, err)
	}
}

func TestSend_AuthenticatesWithURLCredentials(t *testing.T) {
	for _, query := range []string{"", "?tls=none"} {
		t.Run("tls"+query, func(t *testing.T) {
			sink, addr := startSink(t)
			s := newSender(t, email.Config{URL: "smtp://user%40example.com:p%40ss@" + addr + query})
			if _, err := s.Send(context.Background(), klaxon.Message{ID: "m", To: rcpt, Body: "x"}); err != nil {
				t.Fatalf("Send: %v", err)
			}
			waitMail(t, sink, rcpt)
		})
	}
}

func TestSend_MandatoryStartTLSFailsWithoutIt(t *testing.T) {
	sink, addr := startSink(t)
	s := newSender(t, email.Config{URL: "smtp://" + addr + "?tls=starttls"})
	_, err := s.Send(context.Background(), klaxon.Message{ID: "m", To: rcpt, Body: "x"})
	de := deliveryError(t, err)
	if de.Permanent || !strings.Contains(de.Reason, "STARTTLS") {
		t.Errorf("got %+v, want a transient error naming STARTTLS", de)
	}
	if len(sink.Mails()) != 0 {
		t.Error("mail was sent in plain text despite tls=starttls")
	}
}

func TestSend_RefusesBadAddressesWithoutConnecting(t *testing.T) {
	tests := []struct {
		name string
		msg  klaxon.Message
		kind string
	}{
		{"recipient not an address", klaxon.Message{ID: "m", To: "not-an-address", Body: "x"}, "InvalidAddress"},
		{"sender not an address", klaxon.Message{ID: "m", To: rcpt, From: "klaxon at example", Body: "x"}, "InvalidAddress"},
		{"no message ID", klaxon.Message{To: rcpt, Body: "x"}, "InvalidRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Nothing listens here: a connection attempt would fail as Network.
			s := newSender(t, email.Config{URL: "smtp://127.0.0.1:1"})
			_, err := s.Send(context.Background(), tt.msg)
			de := deliveryError(t, err)
			if !de.Permanent || de.Kind != tt.kind || klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
				t.Errorf("got %+v, want permanent %s wrapping EInvalid", de, tt.kind)
			}
		})
	}
}

func TestNew_RejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  email.Config
		want string
	}{
		{"no URL", email.Config{}, "smtp url is empty"},
		{"bad from", email.Config{URL: "smtp://localhost:25", From: "klaxon"}, "from address"},
		{"negative timeout", email.Config{URL: "smtp://localhost:25", Timeout: -time.Second}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := email.New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    email.Settings
		wantErr string
	}{
		{raw: "smtp://mail.example.com:2525", want: email.Settings{Host: "mail.example.com", Port: 2525, TLS: email.TLSOpportunistic}},
		{raw: "smtp://mail.example.com", want: email.Settings{Host: "mail.example.com", Port: 25, TLS: email.TLSOpportunistic}},
		{raw: "smtp://u:p@mail.example.com:25?tls=none", want: email.Settings{Host: "mail.example.com", Port: 25, Username: "u", Password: "p", TLS: email.TLSNone}},
		{raw: "smtp://mail.example.com?tls=starttls", want: email.Settings{Host: "mail.example.com", Port: 587, TLS: email.TLSStartTLS}},
		{raw: "smtp://mail.example.com?tls=TLS", want: email.Settings{Host: "mail.example.com", Port: 465, TLS: email.TLSImplicit}},
		{raw: "smtps://apikey:s3cr%2Ft@smtp.example.com", want: email.Settings{Host: "smtp.example.com", Port: 465, Username: "apikey", Password: "s3cr/t", TLS: email.TLSImplicit}},
		{raw: "smtp://[::1]:1025/", want: email.Settings{Host: "::1", Port: 1025, TLS: email.TLSOpportunistic}},
		{raw: "", wantErr: "empty"},
		{raw: "mail.example.com:25", wantErr: "unsupported scheme"},
		{raw: "http://mail.example.com", wantErr: "unsupported scheme"},
		{raw: "smtp://", wantErr: "no host"},
		{raw: "smtp://:25", wantErr: "no host"},
		{raw: "smtp://u:hunter2@mail.example.com:smtp", wantErr: "port"},
		{raw: "smtp://u:hunter2@mail.example.com:0", wantErr: "port"},
		{raw: "smtp://u:hunter2@mail.example.com:70000", wantErr: "port"},
		{raw: "smtp://mail.example.com:", wantErr: "empty port"},
		{raw: "smtp://u:hunter2@mail.example.com?tls=ssl", wantErr: `tls="ssl"`},
		{raw: "smtp://mail.example.com?tls=", wantErr: "is not one of"},
		{raw: "smtp://mail.example.com?timeout=5", wantErr: "unknown parameter"},
		{raw: "smtp://mail.example.com/inbox", wantErr: "path"},
		{raw: "smtps://mail.example.com?tls=none", wantErr: "smtps scheme"},
		{raw: "smtp://:hunter2@mail.example.com", wantErr: "user name"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := email.ParseURL(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseURL error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseURL = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSettings_StringMasksPassword(t *testing.T) {
	s, err := email.ParseURL("smtp://user:hunter2@mail.example.com:587?tls=starttls")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.String(); strings.Contains(got, "hunter2") || !strings.Contains(got, "user:") || !strings.Contains(got, "tls=starttls") {
		t.Errorf("String() = %q", got)
	}
}

func TestMessageID_IsStableAndDistinct(t *testing.T) {
	ids := []string{"a/b", "a:b", "a=2Fb", "a b", "a.b", "a-b"}
	seen := map[string]string{}
	for _, id := range ids {
		got := email.MessageID(id, "example.com")
		if got != email.MessageID(id, "example.com") {
			t.Errorf("MessageID(%q) is not stable", id)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("MessageID(%q) = MessageID(%q) = %s", id, other, got)
		}
		seen[got] = id
	}
}

func BenchmarkEmailSend(b *testing.B) {
	_, addr := startSink(b)
	s := newSender(b, email.Config{URL: "smtp://" + addr})
	ctx := context.Background()
	m := klaxon.Message{ID: "bench", To: rcpt, Subject: "Page 3: derp is broken", Body: "Page 3: derp is broken. Reply 3a to ack, 3c to resolve.", ThreadKey: "page-3"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Send(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
