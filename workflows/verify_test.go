package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	kcode "github.com/klaxonhq/klaxon/code"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

const codeRigPaging = "+15555550100"

// codeRig runs the inbound, verification and login-code workflows in the
// SDK's time-skipping test environment, with the real activities on a real
// Postgres database and a provider that records what it is asked to send.
type codeRig struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	db  *testenv.DB

	mu       sync.Mutex
	sent     []klaxon.Message
	refuse   func(m klaxon.Message) error
	signals  []codeRigSignal
	users    int
	signalFn func(workflowID, name string, arg any) error
}

type codeRigSignal struct {
	WorkflowID, Name string
	Arg              any
}

func newCodeRig(t *testing.T) *codeRig {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	r := &codeRig{t: t, env: s.NewTestWorkflowEnvironment(), db: testenv.Postgres(t)}
	logger := testenv.Logger(t)
	codes := &activities.Codes{Store: r.db.Store, Brand: "Klaxon", Logger: logger}
	inb := &activities.Inbound{Store: r.db.Store, PagingNumber: codeRigPaging, OwnNumbers: []string{codeRigPaging},
		Brand: "Klaxon", Logger: logger}
	workflows.Register(r.env, workflows.Deps{Codes: codes, Inbound: inb})
	act := func(fn any, name string) { workflows.Override(r.env, fn, name) }
	send := func(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
		m, err := activities.ResolveMessage(ctx, r.db.Store, m)
		if err != nil {
			return klaxon.Receipt{}, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.refuse != nil {
			if err := r.refuse(m); err != nil {
				return klaxon.Receipt{}, err
			}
		}
		r.sent = append(r.sent, m)
		return klaxon.Receipt{ProviderID: fmt.Sprintf("SM%d", len(r.sent)), Status: "queued"}, nil
	}
	act(send, workflows.ActivitySendFirst)
	act(send, workflows.ActivitySend)
	act(func(context.Context, activities.FinalizeInput) error { return nil }, workflows.ActivityFinalize)
	r.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, mock.Anything, mock.Anything, mock.Anything).Return(
		func(_, workflowID, _, name string, arg any) error {
			r.mu.Lock()
			r.signals = append(r.signals, codeRigSignal{workflowID, name, arg})
			fn := r.signalFn
			r.mu.Unlock()
			if fn != nil {
				return fn(workflowID, name, arg)
			}
			return nil
		})
	return r
}

// verification creates a user, a contact method and its pending challenge.
func (r *codeRig) verification(medium klaxon.Medium, address string) store.VerificationStart {
	r.t.Helper()
	ctx := context.Background()
	r.users++
	u, err := r.db.Store.CreateUser(ctx, store.User{Handle: fmt.Sprintf("user%d", r.users), Name: "User", Timezone: "UTC"})
	if err != nil {
		r.t.Fatal(err)
	}
	v, err := r.db.Store.StartVerification(ctx, store.Contact{UserID: u.ID, Type: medium, Address: address},
		func(id int64) string { return workflows.VerifyWorkflowID(id, "test") }, workflows.DefaultMaxAttempts, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	return v
}

func (r *codeRig) messages() []klaxon.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]klaxon.Message(nil), r.sent...)
}

var sixDigits = regexp.MustCompile(`\d(, )?\d(, )?\d(, )?\d(, )?\d(, )?\d`)

// code returns the code carried by the n-th message (1-based) sent.
func (r *codeRig) code(n int) string {
	r.t.Helper()
	ms := r.messages()
	if len(ms) < n {
		r.t.Fatalf("only %d messages sent, want a code in message %d", len(ms), n)
	}
	c := strings.ReplaceAll(sixDigits.FindString(ms[n-1].Body), ", ", "")
	if len(c) != 6 {
		r.t.Fatalf("message %d carries no code: %q", n, ms[n-1].Body)
	}
	return c
}

// wrongCode is a well-formed code that is not code.
func wrongCode(code string) string {
	if code == "000000" {
		return "111111"
	}
	return "000000"
}

// updateOutcome is what an update came to.
type updateOutcome struct {
	rejected error
	err      error
	value    any
	done     bool
}

func (o *updateOutcome) answer(t *testing.T) workflows.CodeAnswer {
	t.Helper()
	if !o.done || o.rejected != nil || o.err != nil {
		t.Fatalf("update did not complete: %+v (err %v)", o, o.err)
	}
	var a workflows.CodeAnswer
	decodeUpdate(t, o.value, &a)
	return a
}

func decodeUpdate(t *testing.T, v, dst any) {
	t.Helper()
	switch x := v.(type) {
	case *commonpb.Payloads:
		if err := converter.GetDefaultDataConverter().FromPayloads(x, dst); err != nil {
			t.Fatal(err)
		}
	default:
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
}

func (r *codeRig) update(name string, args ...any) *updateOutcome {
	o := &updateOutcome{}
	r.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { o.rejected, o.done = err, true },
		OnComplete: func(v any, err error) { o.value, o.err, o.done = v, err, true },
	}, args...)
	return o
}

// at runs fn at workflow time d after start.
func (r *codeRig) at(d time.Duration, fn func()) { r.env.RegisterDelayedCallback(fn, d) }

func (r *codeRig) state() workflows.CodeState {
	r.t.Helper()
	v, err := r.env.QueryWorkflow(workflows.QueryState)
	if err != nil {
		r.t.Fatal(err)
	}
	var st workflows.CodeState
	if err := v.Get(&st); err != nil {
		r.t.Fatal(err)
	}
	return st
}

func (r *codeRig) runVerify(v store.VerificationStart) workflows.VerifyResult {
	r.t.Helper()
	r.env.ExecuteWorkflow(workflows.WorkflowVerifyContact, workflows.VerifyInput{ChallengeID: v.Challenge.ID, ContactID: v.Contact.ID})
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatal("workflow did not complete")
	}
	if err := r.env.GetWorkflowError(); err != nil {
		r.t.Fatalf("workflow failed: %v", err)
	}
	var res workflows.VerifyResult
	if err := r.env.GetWorkflowResult(&res); err != nil {
		r.t.Fatal(err)
	}
	return res
}

func (r *codeRig) challenge(id string) store.Challenge {
	r.t.Helper()
	ch, err := r.db.Store.ChallengeByID(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return ch
}

func (r *codeRig) contact(id int64) store.Contact {
	r.t.Helper()
	c, err := r.db.Store.ContactByID(context.Background(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func applicationType(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type()
	}
	return ""
}

func TestVerifyContact_RightCodeVerifiesAfterAWrongOne(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, "+15555550123")
	var wrong, right *updateOutcome
	r.at(time.Second, func() { wrong = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: wrongCode(r.code(1))}) })
	r.at(2*time.Second, func() {
		// People type codes with spaces.
		c := r.code(1)
		right = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: c[:3] + " " + c[3:]})
	})
	res := r.runVerify(v)

	if a := wrong.answer(t); a.Valid || a.AttemptsLeft != 4 || a.Status != workflows.CodeStatusWaiting {
		t.Errorf("wrong code answered %+v, want invalid with 4 tries left", a)
	}
	if a := right.answer(t); !a.Valid || a.Status != store.ChallengeVerified {
		t.Errorf("right code answered %+v, want valid", a)
	}
	if res.Status != store.ChallengeVerified {
		t.Errorf("result = %+v, want verified", res)
	}
	if c := r.contact(v.Contact.ID); c.Status != store.ContactVerified {
		t.Errorf("contact is %s, want verified", c.Status)
	}
	ms := r.messages()
	if len(ms) != 1 {
		t.Fatalf("sent %d messages, want the one code: %+v", len(ms), ms)
	}
	m := ms[0]
	if m.Medium != klaxon.SMS || m.To != "+15555550123" || m.Priority != klaxon.Urgent || m.Purpose != "verify" ||
		m.Ref != v.Challenge.ID || m.ID != v.Challenge.ID+"/code/1" {
		t.Errorf("code message = %+v", m)
	}
	if !strings.HasPrefix(m.Body, "Your Klaxon code is "+r.code(1)+".") || !strings.Contains(m.Body, "10 minutes") {
		t.Errorf("code text = %q", m.Body)
	}
}

func TestVerifyContact_CodeExpiresAfterTenMinutes(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, "+15555550123")
	var before workflows.CodeState
	var late *updateOutcome
	r.at(9*time.Minute+59*time.Second, func() { before = r.state() })
	r.at(10*time.Minute+time.Second, func() { late = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(1)}) })
	res := r.runVerify(v)
	if res.Status != store.ChallengeExpired {
		t.Fatalf("result = %+v, want expired", res)
	}
	if before.Status != workflows.CodeStatusWaiting || before.Sends != 1 {
		t.Errorf("state just before expiry = %+v, want waiting", before)
	}
	if late != nil && late.done && late.rejected == nil && late.err == nil {
		t.Errorf("a check after expiry was accepted: %+v", late)
	}
	if ch := r.challenge(v.Challenge.ID); ch.Status != store.ChallengeExpired {
		t.Errorf("challenge is %s, want expired", ch.Status)
	}
	if c := r.contact(v.Contact.ID); c.Status != store.ContactPending {
		t.Errorf("contact is %s, want still pending", c.Status)
	}
}

func TestVerifyContact_FiveWrongCodesLockIt(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, "+15555550123")
	var outs []*updateOutcome
	for i := 1; i <= 5; i++ {
		r.at(time.Duration(i)*time.Second, func() {
			outs = append(outs, r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: wrongCode(r.code(1))}))
		})
	}
	var after *updateOutcome
	r.at(6*time.Second, func() { after = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(1)}) })
	res := r.runVerify(v)
	if res.Status != store.ChallengeLocked {
		t.Fatalf("result = %+v, want locked", res)
	}
	for i, o := range outs {
		a := o.answer(t)
		if a.Valid || a.AttemptsLeft != 4-i {
			t.Errorf("try %d answered %+v, want invalid with %d left", i+1, a, 4-i)
		}
	}
	if outs[4].answer(t).Status != store.ChallengeLocked {
		t.Errorf("fifth wrong code: status %s, want locked", outs[4].answer(t).Status)
	}
	// The workflow ends with the lock; a check that still reaches it is
	// refused.
	if after != nil && (after.rejected == nil || applicationType(after.rejected) != workflows.ErrTypeChallengeOver) {
		t.Errorf("the right code after the lock was not refused: %+v", after)
	}
	if c := r.contact(v.Contact.ID); c.Status != store.ContactPending {
		t.Errorf("contact is %s after a lock, want pending", c.Status)
	}
}

func TestVerifyContact_MalformedCodeIsRefusedWithoutCostingATry(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, "+15555550123")
	tests := []string{"", "12345", "1234567", "12a456", "１２３４５６", "123456; DROP TABLE"}
	outs := map[string]*updateOutcome{}
	for i, code := range tests {
		r.at(time.Duration(i+1)*time.Second, func() { outs[code] = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: code}) })
	}
	var right *updateOutcome
	r.at(time.Minute, func() { right = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(1)}) })
	r.runVerify(v)
	for _, code := range tests {
		if o := outs[code]; o == nil || applicationType(o.rejected) != workflows.ErrTypeMalformedCode {
			t.Errorf("code %q: %+v, want rejected as malformed", code, o)
		}
	}
	if a := right.answer(t); !a.Valid {
		t.Errorf("right code after malformed ones = %+v", a)
	}
	if ch := r.challenge(v.Challenge.ID); ch.Attempts != 1 {
		t.Errorf("attempts = %d, want 1: malformed codes cost nothing", ch.Attempts)
	}
}

func TestVerifyContact_ResendHonoursTheIntervalAndReplacesTheCode(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, "+15555550123")
	var tooSoon, resent, oldCode, newCode *updateOutcome
	var st workflows.CodeState
	r.at(10*time.Second, func() { tooSoon = r.update(workflows.UpdateResend) })
	r.at(61*time.Second, func() { resent = r.update(workflows.UpdateResend) })
	r.at(62*time.Second, func() { st = r.state() })
	// After the first code's expiry: the new one counts from its own send.
	r.at(10*time.Minute+30*time.Second, func() {
		oldCode = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(1)})
	})
	r.at(10*time.Minute+31*time.Second, func() {
		newCode = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(2)})
	})
	res := r.runVerify(v)

	if tooSoon == nil || applicationType(tooSoon.rejected) != workflows.ErrTypeTooSoon {
		t.Fatalf("resend after 10 s = %+v, want refused as too soon", tooSoon)
	}
	var ae *temporal.ApplicationError
	var secs int
	if !errors.As(tooSoon.rejected, &ae) || ae.Details(&secs) != nil || secs < 49 || secs > 51 {
		t.Errorf("too-soon refusal carries %d seconds, want about 50", secs)
	}
	if !strings.Contains(tooSoon.rejected.Error(), "60 seconds") {
		t.Errorf("refusal says %q; want it to name the interval", tooSoon.rejected)
	}
	if resent == nil || !resent.done || resent.rejected != nil || resent.err != nil {
		t.Fatalf("resend after 61 s = %+v, want accepted", resent)
	}
	var ra workflows.ResendAnswer
	decodeUpdate(t, resent.value, &ra)
	if ra.Sends != 2 {
		t.Errorf("resend answer = %+v, want 2 sends", ra)
	}
	if st.Sends != 2 || st.NextResendAt.IsZero() {
		t.Errorf("state after resend = %+v", st)
	}
	if r.code(1) == r.code(2) && oldCode.answer(t).Valid {
		t.Skip("the two random codes happened to be equal")
	}
	if a := oldCode.answer(t); a.Valid {
		t.Errorf("the replaced code was accepted: %+v", a)
	}
	if a := newCode.answer(t); !a.Valid {
		t.Errorf("the new code was refused: %+v", a)
	}
	if res.Status != store.ChallengeVerified {
		t.Errorf("result = %+v", res)
	}
	ms := r.messages()
	if len(ms) != 2 || ms[1].ID != v.Challenge.ID+"/code/2" {
		t.Errorf("messages = %+v, want two codes with distinct ids", ms)
	}
}

func TestVerifyContact_ResendsAreCapped(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, "+15555550123")
	var outs []*updateOutcome
	for i := 1; i <= workflows.DefaultMaxSends; i++ {
		r.at(time.Duration(i)*61*time.Second, func() { outs = append(outs, r.update(workflows.UpdateResend)) })
	}
	r.runVerify(v)
	for i, o := range outs[:workflows.DefaultMaxSends-1] {
		if o.rejected != nil || o.err != nil {
			t.Errorf("resend %d refused: %+v", i+1, o)
		}
	}
	if last := outs[len(outs)-1]; applicationType(last.rejected) != workflows.ErrTypeTooManySends {
		t.Errorf("resend past the cap = %+v, want TooManySends", last)
	}
	if n := len(r.messages()); n != workflows.DefaultMaxSends {
		t.Errorf("sent %d codes, want %d", n, workflows.DefaultMaxSends)
	}
}

func TestVerifyContact_EachMediumCarriesTheCodeItsWay(t *testing.T) {
	tests := []struct {
		medium  klaxon.Medium
		address string
		check   func(t *testing.T, m klaxon.Message, code string)
	}{
		{klaxon.Voice, "+15555550123", func(t *testing.T, m klaxon.Message, code string) {
			spoken := strings.Join(strings.Split(code, ""), ", ")
			if m.Body != "Your Klaxon code is "+spoken+"." {
				t.Errorf("voice body = %q, want the digits read one by one", m.Body)
			}
		}},
		{klaxon.Email, "alice@example.com", func(t *testing.T, m klaxon.Message, code string) {
			if m.Subject != "Your Klaxon code" || !strings.Contains(m.Body, "Your Klaxon code is "+code+".") || m.ThreadKey == "" {
				t.Errorf("email = %+v", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.medium), func(t *testing.T) {
			r := newCodeRig(t)
			v := r.verification(tt.medium, tt.address)
			r.at(time.Second, func() { r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(1)}) })
			if res := r.runVerify(v); res.Status != store.ChallengeVerified {
				t.Fatalf("result = %+v", res)
			}
			m := r.messages()[0]
			if m.Medium != tt.medium || m.To != tt.address {
				t.Fatalf("message = %+v", m)
			}
			tt.check(t, m, r.code(1))
		})
	}
}

func TestVerifyContact_UndeliverableCodeFailsTheVerification(t *testing.T) {
	r := newCodeRig(t)
	r.refuse = func(klaxon.Message) error {
		return temporal.NewNonRetryableApplicationError("not a mobile number", "NotMobile", nil)
	}
	v := r.verification(klaxon.SMS, "+15555550123")
	res := r.runVerify(v)
	if res.Status != store.ChallengeFailed {
		t.Fatalf("result = %+v, want failed", res)
	}
	if ch := r.challenge(v.Challenge.ID); ch.Status != store.ChallengeFailed {
		t.Errorf("challenge = %s, want failed", ch.Status)
	}
}

func TestVerifyContact_CodeIsNeverInStateOrStorageInClear(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, "+15555550123")
	var st workflows.CodeState
	r.at(time.Second, func() { st = r.state() })
	r.at(2*time.Second, func() { r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(1)}) })
	r.runVerify(v)
	code := r.code(1)
	b, _ := json.Marshal(st)
	if strings.Contains(string(b), code) {
		t.Errorf("query state holds the code: %s", b)
	}
	var salt, hash []byte
	var rowText string
	err := r.db.Pool.QueryRow(context.Background(), `SELECT salt, code_hash, row_to_json(c)::text FROM challenges c WHERE id = $1`, v.Challenge.ID).
		Scan(&salt, &hash, &rowText)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rowText, code) || len(hash) != 32 || len(salt) != 16 {
		t.Errorf("stored challenge = %s; want only a 32-byte hash under a 16-byte salt", rowText)
	}
	if !kcode.Matcher(code)(salt, hash) || kcode.Matcher(wrongCode(code))(salt, hash) {
		t.Error("the stored hash does not match the code (or matches a wrong one)")
	}
}

func TestVerifyContact_CodeTextedBackVerifiesAndConfirms(t *testing.T) {
	r := newCodeRig(t)
	v := r.verification(klaxon.SMS, "+15555550123")
	r.at(time.Second, func() {
		r.env.SignalWorkflow(workflows.SignalCodeReply, workflows.CodeReply{Code: wrongCode(r.code(1)), From: "+15555550123"})
	})
	r.at(2*time.Second, func() {
		r.env.SignalWorkflow(workflows.SignalCodeReply, workflows.CodeReply{Code: r.code(1), From: "+15555550123"})
	})
	if res := r.runVerify(v); res.Status != store.ChallengeVerified {
		t.Fatalf("result = %+v", res)
	}
	ms := r.messages()
	if len(ms) != 3 {
		t.Fatalf("messages = %+v; want the code and two replies", ms)
	}
	if ms[1].Body != "That code is not valid. You have 4 tries left." || ms[1].To != "+15555550123" || ms[1].From != "" {
		t.Errorf("reply to a wrong code = %+v", ms[1])
	}
	if !strings.HasPrefix(ms[2].Body, "Thanks! This number is now verified") {
		t.Errorf("reply to the right code = %+v", ms[2])
	}
	if ms[1].ID == ms[2].ID {
		t.Error("the two replies share a message id")
	}
}

func TestOTP_CodeIsValidOnce(t *testing.T) {
	r := newCodeRig(t)
	ch, err := r.db.Store.StartOTP(context.Background(), store.Challenge{
		ID: workflows.OTPWorkflowID("otp_test"), Medium: klaxon.SMS, Address: "+15555550123", MaxAttempts: 5,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var first, again *updateOutcome
	r.at(time.Second, func() { first = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(1)}) })
	r.at(2*time.Second, func() { again = r.update(workflows.UpdateVerify, workflows.CodeCheck{Code: r.code(1)}) })
	r.env.ExecuteWorkflow(workflows.WorkflowOTP, workflows.OTPInput{ChallengeID: ch.ID, OTPID: "otp_test"})
	var res workflows.OTPResult
	if err := r.env.GetWorkflowResult(&res); err != nil || res.Status != store.ChallengeVerified {
		t.Fatalf("result = %+v, %v", res, err)
	}
	if a := first.answer(t); !a.Valid {
		t.Errorf("first check = %+v", a)
	}
	// The workflow ends once the code is used; a check that still reaches
	// it is refused.
	if again != nil && again.rejected == nil {
		t.Errorf("second check of a used code = %+v, want refused", again)
	}
	m := r.messages()[0]
	if m.Purpose != "otp" || !strings.HasPrefix(m.Body, "Your Klaxon login code is "+r.code(1)+".") {
		t.Errorf("login code message = %+v", m)
	}
}
