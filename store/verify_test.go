package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

// plainMatch is a stand-in hasher for store tests: the "hash" is the code.
func plainMatch(code string) func(salt, hash []byte) bool {
	return func(_, hash []byte) bool { return bytes.Equal(hash, []byte(code)) }
}

func newUser(t *testing.T, s *store.Store, handle string) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.User{Handle: handle, Name: handle, Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func verifyID(id int64) string { return fmt.Sprintf("verify/contact/%d/t", id) }

func startSMSVerification(t *testing.T, s *store.Store, u store.User, number string, limits ...store.Limit) store.VerificationStart {
	t.Helper()
	v, err := s.StartVerification(context.Background(),
		store.Contact{UserID: u.ID, Type: klaxon.SMS, Address: number}, verifyID, 5, limits)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestStartVerification_OnePendingChallengePerContact(t *testing.T) {
	db := testenv.Postgres(t)
	u := newUser(t, db.Store, "alice")
	v := startSMSVerification(t, db.Store, u, "+15555550123")
	if !v.New || v.Contact.ID == 0 || v.Contact.Status != store.ContactPending || v.Challenge.ID != verifyID(v.Contact.ID) {
		t.Fatalf("first start = %+v", v)
	}
	again := startSMSVerification(t, db.Store, u, "+15555550123")
	if again.New || again.Challenge.ID != v.Challenge.ID || again.Contact.ID != v.Contact.ID {
		t.Fatalf("second start = %+v, want the same challenge, not a new one", again)
	}
}

func TestStartVerification_VerifiedContactNeedsNoChallenge(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	u := newUser(t, db.Store, "alice")
	v := startSMSVerification(t, db.Store, u, "+15555550123")
	if _, err := db.Store.SetCode(ctx, v.Challenge.ID, 1, []byte("s"), []byte("123456"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if c, err := db.Store.CheckCode(ctx, v.Challenge.ID, plainMatch("123456")); err != nil || c.Outcome != store.CodeValid {
		t.Fatalf("check = %+v, %v", c, err)
	}
	again := startSMSVerification(t, db.Store, u, "+15555550123")
	if again.New || again.Challenge.ID != "" || again.Contact.Status != store.ContactVerified {
		t.Fatalf("start on a verified contact = %+v", again)
	}
}

func TestStartVerification_ThrottleRefusesAndChangesNothing(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	limit := store.Limit{Scope: store.LimitAddress, Window: time.Hour, Max: 1, Message: "Too many codes to this number."}
	alice := newUser(t, db.Store, "alice")
	bob := newUser(t, db.Store, "bob")
	startSMSVerification(t, db.Store, alice, "+15555550123", limit)

	_, err := db.Store.StartVerification(ctx, store.Contact{UserID: bob.ID, Type: klaxon.SMS, Address: "+15555550123"}, verifyID, 5, []store.Limit{limit})
	var ke *klaxon.Error
	if !errors.As(err, &ke) || ke.Code != klaxon.EThrottled || ke.Message != limit.Message {
		t.Fatalf("err = %v, want the throttle's EThrottled", err)
	}
	if ke.RetryAfter < 59*time.Minute || ke.RetryAfter > time.Hour+time.Second {
		t.Fatalf("RetryAfter = %v, want about an hour", ke.RetryAfter)
	}
	cs, err := db.Store.Contacts(ctx, bob.ID, false)
	if err != nil || len(cs) != 0 {
		t.Fatalf("bob's contacts = %+v, %v; a refusal must not add the contact", cs, err)
	}
}

func TestStartOTP_LimitsCountWindowAndScope(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	perNumber := store.Limit{Scope: store.LimitAddress, Purpose: store.PurposeOTP, Window: 10 * time.Minute, Max: 3, Message: "number"}
	global := store.Limit{Scope: store.LimitAll, Purpose: store.PurposeOTP, Window: time.Minute, Max: 5, Message: "global"}
	limits := []store.Limit{perNumber, global}
	otp := func(i int, number string) error {
		_, err := db.Store.StartOTP(ctx, store.Challenge{ID: fmt.Sprintf("otp/%d", i), Medium: klaxon.SMS, Address: number, MaxAttempts: 5}, limits)
		return err
	}
	tests := []struct {
		name   string
		number string
		want   string // "" for allowed, else the refusing limit's message
	}{
		{"1st to A", "+15555550001", ""},
		{"2nd to A", "+15555550001", ""},
		{"3rd to A", "+15555550001", ""},
		{"4th to A", "+15555550001", "number"},
		{"1st to B", "+15555550002", ""},
		{"2nd to B", "+15555550002", ""},
		{"to C, global full", "+15555550003", "global"},
	}
	for i, tt := range tests {
		err := otp(i, tt.number)
		got := ""
		if err != nil {
			var ke *klaxon.Error
			if !errors.As(err, &ke) || ke.Code != klaxon.EThrottled || ke.RetryAfter <= 0 {
				t.Fatalf("%s: err = %v, want EThrottled with a RetryAfter", tt.name, err)
			}
			got = ke.Message
		}
		if got != tt.want {
			t.Errorf("%s: refused by %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCheckCode_AttemptsLockAndVerify(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	u := newUser(t, db.Store, "alice")

	t.Run("right code verifies the contact", func(t *testing.T) {
		v := startSMSVerification(t, db.Store, u, "+15555550001")
		if _, err := db.Store.SetCode(ctx, v.Challenge.ID, 1, []byte("s"), []byte("111111"), time.Minute); err != nil {
			t.Fatal(err)
		}
		c, err := db.Store.CheckCode(ctx, v.Challenge.ID, plainMatch("000000"))
		if err != nil || c.Outcome != store.CodeInvalid || c.Attempts != 1 {
			t.Fatalf("wrong code = %+v, %v", c, err)
		}
		c, err = db.Store.CheckCode(ctx, v.Challenge.ID, plainMatch("111111"))
		if err != nil || c.Outcome != store.CodeValid || c.Status != store.ChallengeVerified {
			t.Fatalf("right code = %+v, %v", c, err)
		}
		contact, err := db.Store.ContactByID(ctx, v.Contact.ID)
		if err != nil || contact.Status != store.ContactVerified {
			t.Fatalf("contact = %+v, %v; want verified", contact, err)
		}
		c, err = db.Store.CheckCode(ctx, v.Challenge.ID, plainMatch("111111"))
		if err != nil || c.Outcome != store.CodeClosed {
			t.Fatalf("check after verification = %+v, %v; want closed", c, err)
		}
		if ok, err := db.Store.VerifiedCodeMatches(ctx, v.Contact.ID, plainMatch("111111")); err != nil || !ok {
			t.Fatalf("VerifiedCodeMatches = %v, %v", ok, err)
		}
	})

	t.Run("fifth wrong code locks", func(t *testing.T) {
		v := startSMSVerification(t, db.Store, u, "+15555550002")
		if _, err := db.Store.SetCode(ctx, v.Challenge.ID, 1, []byte("s"), []byte("111111"), time.Minute); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 5; i++ {
			c, err := db.Store.CheckCode(ctx, v.Challenge.ID, plainMatch("000000"))
			want := store.CodeInvalid
			if i == 5 {
				want = store.CodeLocked
			}
			if err != nil || c.Outcome != want || c.Attempts != i {
				t.Fatalf("try %d = %+v, %v; want %s", i, c, err, want)
			}
		}
		c, _ := db.Store.CheckCode(ctx, v.Challenge.ID, plainMatch("111111"))
		if c.Outcome != store.CodeClosed {
			t.Fatalf("right code after lock = %+v, want closed", c)
		}
		contact, _ := db.Store.ContactByID(ctx, v.Contact.ID)
		if contact.Status != store.ContactPending {
			t.Fatalf("locked contact is %s, want pending", contact.Status)
		}
	})

	t.Run("expired code is refused without a try", func(t *testing.T) {
		v := startSMSVerification(t, db.Store, u, "+15555550003")
		if _, err := db.Store.SetCode(ctx, v.Challenge.ID, 1, []byte("s"), []byte("111111"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `UPDATE challenges SET expires_at = now() - interval '1 second' WHERE id = $1`, v.Challenge.ID); err != nil {
			t.Fatal(err)
		}
		c, err := db.Store.CheckCode(ctx, v.Challenge.ID, plainMatch("111111"))
		if err != nil || c.Outcome != store.CodeExpired || c.Status != store.ChallengeExpired {
			t.Fatalf("expired = %+v, %v", c, err)
		}
	})

	t.Run("no code sent yet costs no try", func(t *testing.T) {
		v := startSMSVerification(t, db.Store, u, "+15555550004")
		c, err := db.Store.CheckCode(ctx, v.Challenge.ID, plainMatch("111111"))
		if err != nil || c.Outcome != store.CodeInvalid || c.Attempts != 0 {
			t.Fatalf("check before a code = %+v, %v", c, err)
		}
	})

	t.Run("unknown challenge is closed", func(t *testing.T) {
		c, err := db.Store.CheckCode(ctx, "verify/contact/404/x", plainMatch("111111"))
		if err != nil || c.Outcome != store.CodeClosed {
			t.Fatalf("unknown = %+v, %v", c, err)
		}
	})
}

func TestFinishChallenge_MasksCodesInTheAuditLog(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	u := newUser(t, db.Store, "alice")
	v := startSMSVerification(t, db.Store, u, "+15555550001")
	m := klaxon.Message{ID: v.Challenge.ID + "/code/1", Medium: klaxon.SMS, To: "+15555550001",
		Body: "Your Klaxon code is 123456.", Purpose: "verify", Ref: v.Challenge.ID}
	if err := db.Store.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	status, err := db.Store.FinishChallenge(ctx, v.Challenge.ID, store.ChallengeExpired)
	if err != nil || status != store.ChallengeExpired {
		t.Fatalf("finish = %q, %v", status, err)
	}
	rec, _, _, err := db.Store.GetMessage(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(rec.Body, "123456") || rec.Body != "Your Klaxon code is ******." {
		t.Fatalf("body after finish = %q, want the digits masked", rec.Body)
	}
	// A second finish keeps the first final status.
	if status, err := db.Store.FinishChallenge(ctx, v.Challenge.ID, store.ChallengeFailed); err != nil || status != store.ChallengeExpired {
		t.Fatalf("second finish = %q, %v; want expired kept", status, err)
	}
	if _, err := db.Store.SetCode(ctx, v.Challenge.ID, 2, []byte("s"), []byte("1"), time.Minute); !errors.Is(err, store.ErrChallengeClosed) {
		t.Fatalf("SetCode on an ended challenge = %v, want ErrChallengeClosed", err)
	}
}

func TestPendingCodeReply_NewestPhoneVerificationOfTheNumber(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	alice := newUser(t, db.Store, "alice")
	bob := newUser(t, db.Store, "bob")
	if _, err := db.Store.PendingCodeReply(ctx, "+15555550001", nil); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Fatalf("no verification: err = %v, want not found", err)
	}
	a := startSMSVerification(t, db.Store, alice, "+15555550001")
	b := startSMSVerification(t, db.Store, bob, "+15555550001")
	if _, err := db.Store.PendingCodeReply(ctx, "+15555550001", nil); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Fatalf("before any code was sent: err = %v, want not found", err)
	}
	for i, id := range []string{a.Challenge.ID, b.Challenge.ID} {
		if _, err := db.Store.SetCode(ctx, id, 1, []byte("s"), []byte{byte('1' + i)}, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := db.Store.PendingCodeReply(ctx, "+15555550001", nil)
	if err != nil || ch.ID != b.Challenge.ID {
		t.Fatalf("pending = %+v, %v; want bob's (newest)", ch, err)
	}
	codeIs := func(want string) func(salt, hash []byte) bool {
		return func(_, hash []byte) bool { return string(hash) == want }
	}
	if ch, err := db.Store.PendingCodeReply(ctx, "+15555550001", codeIs("1")); err != nil || ch.ID != a.Challenge.ID {
		t.Fatalf("pending for alice's code = %+v, %v; want alice's, whose code it is", ch, err)
	}
	if ch, err := db.Store.PendingCodeReply(ctx, "+15555550001", codeIs("9")); err != nil || ch.ID != b.Challenge.ID {
		t.Fatalf("pending for a wrong code = %+v, %v; want bob's (newest)", ch, err)
	}
}
