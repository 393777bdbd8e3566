package activities_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/providers/twilio"
	"github.com/klaxonhq/klaxon/ratelimit"
)

const (
	sid       = "ACtest00000000000000000000000000aa"
	authToken = "testauthtoken0123456789"
	from      = "+15555550100"
)

type rig struct {
	d   *activities.Delivery
	sim *simulator.Simulator
	db  *testenv.DB
	env *testsuite.TestActivityEnvironment
}

// newRig wires the delivery activities to a fresh database and to the
// simulator over HTTP through the real Twilio provider.
func newRig(t *testing.T, rate float64) *rig {
	t.Helper()
	return newRigWith(t, rate, func(h http.Handler) http.Handler { return h })
}

// newRigWith is newRig with the simulator's API behind wrap.
func newRigWith(t *testing.T, rate float64, wrap func(http.Handler) http.Handler) *rig {
	t.Helper()
	db := testenv.Postgres(t)
	sim := simulator.New(simulator.Config{AccountSID: sid, AuthToken: authToken, InboundURL: "http://127.0.0.1:1/twilio/sms"})
	srv := httptest.NewServer(wrap(sim.Handler()))
	t.Cleanup(func() { sim.Close(); srv.Close() })
	tw, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: authToken, APIURL: srv.URL, PublicURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	d := &activities.Delivery{
		Store:     db.Store,
		Providers: map[klaxon.Medium]activities.Provider{klaxon.SMS: tw.SMS(), klaxon.Voice: tw.Voice()},
		From:      map[klaxon.Medium]string{klaxon.SMS: from, klaxon.Voice: from},
		Limiter:   ratelimit.New(rate),
		Metrics:   metrics.New(),
		Logger:    slog.New(slog.DiscardHandler),
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(d)
	return &rig{d: d, sim: sim, db: db, env: env}
}

func sms(id, to string) klaxon.Message {
	return klaxon.Message{ID: id, Medium: klaxon.SMS, To: to, Body: "the disk is full", Priority: klaxon.Urgent}
}

func TestSend_RetriedAttemptDoesNotSendTwice(t *testing.T) {
	r := newRig(t, 0)
	m := sms("msg_idem", "+15555550123")
	for range 3 {
		if _, err := r.env.ExecuteActivity(r.d.Send, m); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.sim.Inbox(m.To)); n != 1 {
		t.Fatalf("recipient got %d texts, want exactly 1", n)
	}
	rec, attempts, _, err := r.db.Store.GetMessage(t.Context(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(attempts) != 1 || rec.ProviderID == "" {
		t.Errorf("attempts = %+v, provider id %q; want one accepted attempt", attempts, rec.ProviderID)
	}
}

// A send canceled while Twilio holds the request — a worker stopping, a
// page acknowledged — may still have been accepted. The call must finish and
// its outcome be recorded, or the retry sends the text a second time.
func TestSend_CancelDuringProviderCallStillRecordsTheSend(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	hold := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/Messages.json") {
				close(arrived)
				<-release
				// Twilio takes the message whatever became of the caller.
				req = req.WithContext(context.WithoutCancel(req.Context()))
			}
			h.ServeHTTP(w, req)
		})
	}
	r := newRigWith(t, 0, hold)
	ctx, cancel := context.WithCancel(t.Context())
	r.env.SetWorkerOptions(worker.Options{BackgroundActivityContext: ctx})
	m := sms("msg_cancel_mid_call", "+15555550129")

	done := make(chan error, 1)
	go func() {
		_, err := r.env.ExecuteActivity(r.d.Send, m)
		done <- err
	}()
	<-arrived
	cancel()
	// Let the cancellation reach the HTTP client before Twilio answers.
	time.Sleep(50 * time.Millisecond)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("send canceled mid-call: %v; want the accepted send reported", err)
	}
	rec, _, _, err := r.db.Store.GetMessage(t.Context(), m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ProviderID == "" {
		t.Fatalf("message %+v has no provider id after Twilio accepted it", rec)
	}

	// The retry Temporal would schedule finds the send and does not repeat it.
	r.env.SetWorkerOptions(worker.Options{BackgroundActivityContext: t.Context()})
	if _, err := r.env.ExecuteActivity(r.d.Send, m); err != nil {
		t.Fatal(err)
	}
	if n := len(r.sim.Inbox(m.To)); n != 1 {
		t.Fatalf("recipient got %d texts, want exactly 1", n)
	}
}

// A worker that dies after Twilio took a text, before it wrote Twilio's
// answer, leaves an attempt without an outcome. The retry asks Twilio, finds
// the text, records it, and sends nothing; when Twilio never got it — even
// if another message with the same words went to the same person — the retry
// sends it once.
func TestSend_RetryAfterAWorkerDiedMidSendAsksTwilioFirst(t *testing.T) {
	r := newRig(t, 0)
	tw := r.d.Providers[klaxon.SMS]
	for i, c := range []struct {
		name       string
		twilioTook bool
		twin       bool // the same words went to the same person before
	}{
		{"Twilio took it", true, false},
		{"Twilio never got it", false, false},
		{"Twilio never got it but has its twin", false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			to := "+1555555014" + strconv.Itoa(i)
			m := sms("msg_died_"+strconv.Itoa(i), to)
			m.From = from
			if c.twin {
				twin := m
				twin.ID += "_twin"
				if _, err := r.env.ExecuteActivity(r.d.Send, twin); err != nil {
					t.Fatal(err)
				}
			}
			// The dead worker's first attempt: begun, maybe sent, never
			// finished.
			if _, err := r.db.Store.BeginAttempt(t.Context(), m, activities.LaneFirst, 1); err != nil {
				t.Fatal(err)
			}
			before := len(r.sim.Inbox(to))
			if c.twilioTook {
				if _, err := tw.Send(t.Context(), m); err != nil {
					t.Fatal(err)
				}
			}
			got, err := r.env.ExecuteActivity(r.d.Send, m)
			if err != nil {
				t.Fatal(err)
			}
			var rc klaxon.Receipt
			if err := got.Get(&rc); err != nil {
				t.Fatal(err)
			}
			if n := len(r.sim.Inbox(to)) - before; n != 1 {
				t.Fatalf("recipient got %d texts, want exactly 1", n)
			}
			rec, attempts, _, err := r.db.Store.GetMessage(t.Context(), m.ID)
			if err != nil {
				t.Fatal(err)
			}
			if rec.ProviderID == "" || rec.ProviderID != rc.ProviderID {
				t.Errorf("message records provider id %q, the send returned %q", rec.ProviderID, rc.ProviderID)
			}
			if len(attempts) != 2 || attempts[1].Outcome != "accepted" {
				t.Errorf("attempts = %+v, want the dead one and an accepted retry", attempts)
			}
		})
	}
}

// Two workers sending from one number keep its rate between them: each
// claims the number's slot in Postgres after its own limiter, so their texts
// do not go out in pairs.
func TestSend_TwoWorkersShareTheNumbersRate(t *testing.T) {
	const rate = 5.0
	r := newRig(t, rate)
	interval := time.Duration(float64(time.Second) / rate)
	r.d.SlotInterval = interval
	other := *r.d
	other.Limiter = ratelimit.New(rate)

	// A test environment runs one activity at a time: one for each send.
	const each = 5
	var s testsuite.WorkflowTestSuite
	errs := make(chan error, 2*each)
	for i := range each {
		for w, d := range []*activities.Delivery{r.d, &other} {
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(d)
			go func() {
				m := sms(fmt.Sprintf("msg_shared_%d_%d", w, i), fmt.Sprintf("+155555502%d%d", w, i))
				m.From = from
				_, err := env.ExecuteActivity(d.Send, m)
				errs <- err
			}()
		}
	}
	for range 2 * each {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var sent []time.Time
	for _, m := range r.sim.Messages() {
		if m.From == from {
			sent = append(sent, m.Created)
		}
	}
	slices.SortFunc(sent, time.Time.Compare)
	if len(sent) != 2*each {
		t.Fatalf("simulator has %d texts from the number, want %d", len(sent), 2*each)
	}
	// Lower bounds only: a slow machine spaces them more, never less. Half
	// an interval leaves room for the jitter between a claim and its
	// request; texts sent in pairs would be milliseconds apart.
	for i := 1; i < len(sent); i++ {
		if gap := sent[i].Sub(sent[i-1]); gap < interval/2 {
			t.Errorf("texts %d and %d went %v apart; the number's interval is %v", i-1, i, gap, interval)
		}
	}
}

// A stopping worker gives up a send still queued for its number's rate
// limit at once, with a retryable error, so the retry runs on another worker
// instead of holding up the shutdown. Nothing is sent.
func TestSend_WorkerStopReleasesAQueuedSend(t *testing.T) {
	r := newRig(t, 0.001) // one text, then a long wait
	if _, err := r.env.ExecuteActivity(r.d.Send, sms("msg_first", "+15555550130")); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	r.env.SetWorkerStopChannel(stop)
	m := sms("msg_queued", "+15555550131")
	done := make(chan error, 1)
	go func() {
		_, err := r.env.ExecuteActivity(r.d.Send, m)
		done <- err
	}()
	for r.d.Limiter.Waiting(from) == 0 {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	err := <-done
	var appErr *temporal.ApplicationError
	if err == nil || (errors.As(err, &appErr) && appErr.NonRetryable()) {
		t.Fatalf("queued send on a stopping worker: %v; want a retryable error", err)
	}
	if n := len(r.sim.Inbox(m.To)); n != 0 {
		t.Fatalf("recipient got %d texts from a stopping worker", n)
	}
}

func TestSend_OptedOutRecipientGetsNothing(t *testing.T) {
	r := newRig(t, 0)
	m := sms("msg_optout", "+15555550124")
	if err := r.db.Store.OptOut(t.Context(), m.To, from, "STOP"); err != nil {
		t.Fatal(err)
	}
	_, err := r.env.ExecuteActivity(r.d.SendFirst, m)
	assertAppError(t, err, activities.ErrTypeOptedOut, false)
	assertExpected(t, err)
	if n := len(r.sim.Inbox(m.To)); n != 0 {
		t.Fatalf("opted-out recipient got %d texts", n)
	}
	rec, _, _, _ := r.db.Store.GetMessage(t.Context(), m.ID)
	if rec.Status != klaxon.StatusSuppressed {
		t.Errorf("status %q, want suppressed", rec.Status)
	}

	// The confirmation of an opt-out keyword still goes through.
	c := sms("msg_confirm", m.To)
	c.IgnoreOptOut = true
	if _, err := r.env.ExecuteActivity(r.d.SendFirst, c); err != nil {
		t.Fatal(err)
	}
	if n := len(r.sim.Inbox(m.To)); n != 1 {
		t.Errorf("confirmation not delivered: %d texts", n)
	}
}

func TestSend_OptOutIsPerPairOfNumbers(t *testing.T) {
	r := newRig(t, 0)
	const to, channelNumber = "+15555550129", "+15555550101"
	// STOP texted to a channel's number leaves the channel...
	if err := r.db.Store.OptOut(t.Context(), to, channelNumber, "STOP"); err != nil {
		t.Fatal(err)
	}
	fromChannel := sms("msg_from_channel", to)
	fromChannel.From = channelNumber
	_, err := r.env.ExecuteActivity(r.d.SendFirst, fromChannel)
	assertAppError(t, err, activities.ErrTypeOptedOut, false)
	// ...and does not silence pages from the paging number.
	if _, err := r.env.ExecuteActivity(r.d.SendFirst, sms("msg_page", to)); err != nil {
		t.Fatalf("page to someone who left a channel: %v", err)
	}
	if n := len(r.sim.Inbox(to)); n != 1 {
		t.Errorf("%d texts delivered, want the page only", n)
	}
}

func TestSend_ClassifiesProviderFailures(t *testing.T) {
	cases := []struct {
		name      string
		to        string
		fail      func(*simulator.Simulator)
		kind      string
		retryable bool
		status    string
	}{
		{"invalid number is permanent", "+15005550001", nil, "InvalidNumber", false, klaxon.StatusFailed},
		{"not a mobile is permanent", "+15005550009", nil, "NotMobile", false, klaxon.StatusFailed},
		{"carrier opt-out is permanent", "+15005550004", nil, "OptedOut", false, klaxon.StatusFailed},
		{"provider 503 is transient", "+15555550125", func(s *simulator.Simulator) { s.FailNext(1, 503, 0) }, "ProviderUnavailable", true, klaxon.StatusQueued},
		{"provider 429 is transient", "+15555550126", func(s *simulator.Simulator) { s.FailNext(1, 429, 20429) }, "Throttled", true, klaxon.StatusQueued},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, 0)
			if c.fail != nil {
				c.fail(r.sim)
			}
			m := sms("msg_"+c.kind, c.to)
			_, err := r.env.ExecuteActivity(r.d.SendFirst, m)
			assertAppError(t, err, c.kind, c.retryable)
			// The failure and its causes go into the workflow's history.
			if msg := err.Error(); strings.Contains(msg, c.to) || strings.Contains(msg, sid) {
				t.Errorf("failure names the recipient or the account: %s", msg)
			}
			rec, attempts, _, _ := r.db.Store.GetMessage(t.Context(), m.ID)
			if rec.Status != c.status {
				t.Errorf("status %q, want %q", rec.Status, c.status)
			}
			if len(attempts) != 1 || attempts[0].Outcome != "failed" || attempts[0].ErrorKind != c.kind {
				t.Errorf("attempts = %+v", attempts)
			}
			optedOut, err := r.db.Store.IsOptedOut(t.Context(), c.to, from)
			if err != nil {
				t.Fatal(err)
			}
			if want := c.kind == "OptedOut"; optedOut != want {
				t.Errorf("opted out after %s = %v, want %v", c.kind, optedOut, want)
			}
		})
	}
}

func TestSendFirst_FallsThroughWhenNumberIsAtItsRate(t *testing.T) {
	r := newRig(t, 0.5)
	if _, err := r.env.ExecuteActivity(r.d.SendFirst, sms("msg_a", "+15555550127")); err != nil {
		t.Fatal(err)
	}
	_, err := r.env.ExecuteActivity(r.d.SendFirst, sms("msg_b", "+15555550128"))
	assertAppError(t, err, activities.ErrTypeRateLimit, true)
	assertExpected(t, err)
	if n := len(r.sim.Inbox("+15555550128")); n != 0 {
		t.Errorf("rate-limited first attempt reached the provider")
	}
	// The retrying lane queues for the slot instead of failing.
	if _, err := r.env.ExecuteActivity(r.d.Send, sms("msg_b", "+15555550128")); err != nil {
		t.Fatal(err)
	}
	if n := len(r.sim.Inbox("+15555550128")); n != 1 {
		t.Errorf("queued text delivered %d times, want 1", n)
	}
	// Every attempt ends with an outcome: the first one queued, the retry
	// accepted — none left "started".
	_, attempts, _, err := r.db.Store.GetMessage(t.Context(), "msg_b")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range attempts {
		got = append(got, fmt.Sprintf("%s %d %s", a.Lane, a.Attempt, a.Outcome))
		if a.FinishedAt == nil {
			t.Errorf("attempt %s %d has no end", a.Lane, a.Attempt)
		}
	}
	if want := []string{"first 1 queued", "retry 1 accepted"}; !slices.Equal(got, want) {
		t.Errorf("attempts = %q, want %q", got, want)
	}
}

func assertAppError(t *testing.T, err error, kind string, retryable bool) {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an application error", err)
	}
	if ae.Type() != kind || ae.NonRetryable() == retryable {
		t.Fatalf("error type %q retryable=%v, want %q retryable=%v (%v)", ae.Type(), !ae.NonRetryable(), kind, retryable, err)
	}
}

// assertExpected checks that err is an expected outcome (a benign
// application error), which the worker logs below ERROR.
func assertExpected(t *testing.T, err error) {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Category() != temporal.ApplicationErrorCategoryBenign {
		t.Fatalf("error %v is not an expected (benign) outcome", err)
	}
}
