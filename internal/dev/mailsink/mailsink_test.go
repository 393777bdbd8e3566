package mailsink_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
)

func start(t *testing.T) (*mailsink.Sink, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sink := mailsink.New(nil)
	done := make(chan error, 1)
	go func() { done <- sink.Serve(ln) }()
	t.Cleanup(func() {
		_ = sink.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v after Close", err)
		}
	})
	return sink, ln.Addr().String()
}

// send delivers raw (with LF line ends) from net/smtp's client.
func send(t *testing.T, addr, from string, to []string, raw string) {
	t.Helper()
	if err := smtp.SendMail(addr, nil, from, to, []byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
}

func within(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSink_ParsesWhatArrives(t *testing.T) {
	tests := []struct {
		name        string
		raw         string
		wantSubject string
		wantBody    string
	}{
		{
			name: "plain text",
			raw: "From: a@example.com\nTo: b@example.com\nSubject: Hello\nMessage-ID: <1@example.com>\n" +
				"In-Reply-To: <thread-1@example.com>\nReferences: <thread-1@example.com>\n\nline one\nline two\n",
			wantSubject: "Hello",
			wantBody:    "line one\nline two",
		},
		{
			name: "quoted-printable with encoded subject",
			raw: "From: a@example.com\nSubject: =?UTF-8?q?Gr=C3=B6=C3=9Fe_=E2=9C=93?=\nMessage-ID: <1@example.com>\n" +
				"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\n" +
				"Gr=C3=B6=C3=9Fe =3D 12, and a soft=\n break\n",
			wantSubject: "Größe ✓",
			wantBody:    "Größe = 12, and a soft break",
		},
		{
			name: "base64",
			raw: "Subject: b64\nMessage-ID: <1@example.com>\nContent-Transfer-Encoding: base64\n\n" +
				"aGVsbG8g\nd29ybGQ=\n",
			wantSubject: "b64",
			wantBody:    "hello world",
		},
		{
			name: "multipart takes the plain-text part",
			raw: "Subject: multi\nMessage-ID: <1@example.com>\nMIME-Version: 1.0\n" +
				"Content-Type: multipart/alternative; boundary=XYZ\n\n" +
				"--XYZ\nContent-Type: text/html\n\n<p>html</p>\n" +
				"--XYZ\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: quoted-printable\n\nplain =E2=9C=93\n" +
				"--XYZ--\n",
			wantSubject: "multi",
			wantBody:    "plain ✓",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, addr := start(t)
			send(t, addr, "a@example.com", []string{"b@example.com"}, tt.raw)
			m, err := sink.Wait(within(t), "b@example.com", nil)
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != tt.wantSubject || m.Body != tt.wantBody {
				t.Errorf("got subject %q body %q, want %q %q", m.Subject, m.Body, tt.wantSubject, tt.wantBody)
			}
			if m.MessageID != "<1@example.com>" || m.From != "a@example.com" || m.Received.IsZero() || len(m.Raw) == 0 {
				t.Errorf("got %+v", m)
			}
		})
	}
}

func TestSink_InboxMatchesEveryEnvelopeRecipient(t *testing.T) {
	sink, addr := start(t)
	send(t, addr, "a@example.com", []string{"Alice@Example.com", "bob@example.com"}, "Subject: one\n\nx\n")
	send(t, addr, "a@example.com", []string{"bob@example.com"}, "Subject: two\n\nx\n")
	if _, err := sink.Wait(within(t), "", func(m mailsink.Mail) bool { return m.Subject == "two" }); err != nil {
		t.Fatal(err)
	}
	if got := sink.Inbox("alice@example.com"); len(got) != 1 || got[0].Subject != "one" {
		t.Errorf("alice's inbox = %+v", got)
	}
	if got := sink.Inbox("bob@example.com"); len(got) != 2 || got[0].Subject != "one" || got[1].Subject != "two" {
		t.Errorf("bob's inbox = %+v", got)
	}
	if got := sink.Inbox("carol@example.com"); len(got) != 0 {
		t.Errorf("carol's inbox = %+v", got)
	}
	if got := len(sink.Mails()); got != 2 {
		t.Errorf("Mails() has %d mails, want 2", got)
	}
}

func TestSink_WaitReturnsAMailStillToCome(t *testing.T) {
	sink, addr := start(t)
	got := make(chan mailsink.Mail, 1)
	errc := make(chan error, 1)
	go func() {
		m, err := sink.Wait(within(t), "b@example.com", func(m mailsink.Mail) bool { return m.Subject == "wanted" })
		errc <- err
		got <- m
	}()
	send(t, addr, "a@example.com", []string{"b@example.com"}, "Subject: other\n\nx\n")
	send(t, addr, "a@example.com", []string{"c@example.com"}, "Subject: wanted\n\nx\n")
	send(t, addr, "a@example.com", []string{"b@example.com"}, "Subject: wanted\n\nx\n")
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Subject != "wanted" || m.To[0] != "b@example.com" {
		t.Errorf("Wait returned %+v", m)
	}
}

func TestSink_WaitGivesUp(t *testing.T) {
	t.Run("context done", func(t *testing.T) {
		sink, _ := start(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := sink.Wait(ctx, "b@example.com", nil); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait error = %v, want context.Canceled", err)
		}
	})
	t.Run("sink closed", func(t *testing.T) {
		sink, _ := start(t)
		errc := make(chan error, 1)
		go func() {
			_, err := sink.Wait(context.Background(), "b@example.com", nil)
			errc <- err
		}()
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, mailsink.ErrClosed) {
			t.Errorf("Wait error = %v, want ErrClosed", err)
		}
	})
}

func TestSink_RejectNextAnswersWithTheGivenCode(t *testing.T) {
	sink, addr := start(t)
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.com"); err != nil {
		t.Fatal(err)
	}
	sink.RejectNext(2, 451)
	for i := range 2 {
		var te *textproto.Error
		if err := c.Rcpt("b@example.com"); !errors.As(err, &te) || te.Code != 451 {
			t.Fatalf("RCPT %d: error %v, want 451", i+1, err)
		}
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		t.Fatalf("RCPT after the rejections: %v", err)
	}
	sink.RejectNext(1, 554)
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, "Subject: x\r\n\r\nbody\r\n")
	var te *textproto.Error
	if err := w.Close(); !errors.As(err, &te) || te.Code != 554 {
		t.Fatalf("end of DATA: error %v, want 554", err)
	}
	if n := len(sink.Mails()); n != 0 {
		t.Errorf("sink kept %d rejected mails", n)
	}
}

func TestSink_AcceptsAnyPlainAuth(t *testing.T) {
	sink, addr := start(t)
	host, _, _ := net.SplitHostPort(addr)
	auth := smtp.PlainAuth("", "anyone", "anything", host)
	if err := smtp.SendMail(addr, auth, "a@example.com", []string{"b@example.com"}, []byte("Subject: authed\r\n\r\nx\r\n")); err != nil {
		t.Fatalf("SendMail with AUTH PLAIN: %v", err)
	}
	if _, err := sink.Wait(within(t), "b@example.com", nil); err != nil {
		t.Fatal(err)
	}
}

func TestSink_HandlerListsMailsNewestFirst(t *testing.T) {
	sink, addr := start(t)
	send(t, addr, "a@example.com", []string{"b@example.com"}, "Subject: first <script>\n\nbody one\n")
	send(t, addr, "a@example.com", []string{"c@example.com"}, "Subject: second\n\nbody two\n")
	if _, err := sink.Wait(within(t), "c@example.com", nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sink.Handler())
	t.Cleanup(srv.Close)

	get := func(path string) (string, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
		return resp.Header.Get("Content-Type"), string(b)
	}

	tests := []struct {
		path         string
		wantSubjects []string
	}{
		{"/api/mails", []string{"second", "first <script>"}},
		{"/api/mails?to=B@example.com", []string{"first <script>"}},
		{"/api/mails?to=nobody@example.com", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ctype, body := get(tt.path)
			if ctype != "application/json" {
				t.Errorf("Content-Type = %q", ctype)
			}
			var mails []mailsink.Mail
			if err := json.Unmarshal([]byte(body), &mails); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			var subjects []string
			for _, m := range mails {
				subjects = append(subjects, m.Subject)
			}
			if strings.Join(subjects, "|") != strings.Join(tt.wantSubjects, "|") {
				t.Errorf("subjects = %q, want %q", subjects, tt.wantSubjects)
			}
		})
	}

	t.Run("html page", func(t *testing.T) {
		ctype, body := get("/")
		if !strings.HasPrefix(ctype, "text/html") {
			t.Errorf("Content-Type = %q", ctype)
		}
		second, first := strings.Index(body, "second"), strings.Index(body, "first &lt;script&gt;")
		if second < 0 || first < 0 || second > first {
			t.Errorf("page does not list both mails, newest first, escaped:\n%s", body)
		}
		if strings.Contains(body, "<script>") {
			t.Error("page does not escape the subject")
		}
	})
}

func TestSink_CloseStopsServing(t *testing.T) {
	sink, addr := start(t)
	send(t, addr, "a@example.com", []string{"b@example.com"}, "Subject: kept\n\nx\n")
	// A delivered mail means Serve is running and has recorded its address.
	if sink.Addr() != addr {
		t.Errorf("Addr() = %q, want %q", sink.Addr(), addr)
	}
	if err := sink.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := sink.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("the sink still accepts connections after Close")
	}
	if got := sink.Mails(); len(got) != 1 || got[0].Subject != "kept" {
		t.Errorf("mails after Close = %+v", got)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Serve(ln); err != nil {
		t.Errorf("Serve after Close = %v, want nil", err)
	}
}
