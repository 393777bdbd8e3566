package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/code"
)

// Challenge purposes, statuses and check outcomes: the code domain's
// (package code), under the names the store's callers know.
const (
	PurposeVerify = code.PurposeVerify
	PurposeOTP    = code.PurposeOTP

	ChallengePending  = code.StatusPending
	ChallengeVerified = code.StatusVerified
	ChallengeExpired  = code.StatusExpired
	ChallengeLocked   = code.StatusLocked
	ChallengeFailed   = code.StatusFailed
	ChallengeCanceled = code.StatusCanceled

	CodeValid   = code.OutcomeValid
	CodeInvalid = code.OutcomeInvalid
	CodeExpired = code.OutcomeExpired
	CodeLocked  = code.OutcomeLocked
	CodeClosed  = code.OutcomeClosed
)

// ErrChallengeClosed is returned when a code is issued for a challenge that
// has already ended.
var ErrChallengeClosed = errors.New("challenge has ended")

// Challenge is one verification of a contact method, or one login code.
type Challenge struct {
	ID          string        `json:"id"`
	Purpose     string        `json:"purpose"`
	ContactID   int64         `json:"contact_id,omitempty"`
	UserID      int64         `json:"user_id,omitempty"`
	Medium      klaxon.Medium `json:"medium"`
	Address     string        `json:"-"`
	Status      string        `json:"status"`
	Sends       int           `json:"sends"`
	Attempts    int           `json:"attempts"`
	MaxAttempts int           `json:"max_attempts"`
	SentAt      *time.Time    `json:"sent_at,omitempty"`
	ExpiresAt   *time.Time    `json:"expires_at,omitempty"`
	CreatedAt   time.Time     `json:"created_at"`
	FinishedAt  *time.Time    `json:"finished_at,omitempty"`
}

const challengeColumns = `id, purpose, COALESCE(contact_id, 0), COALESCE(user_id, 0), medium, address, status,
	sends, attempts, max_attempts, sent_at, expires_at, created_at, finished_at`

func scanChallenge(r pgx.Row) (Challenge, error) {
	var c Challenge
	err := r.Scan(&c.ID, &c.Purpose, &c.ContactID, &c.UserID, &c.Medium, &c.Address, &c.Status,
		&c.Sends, &c.Attempts, &c.MaxAttempts, &c.SentAt, &c.ExpiresAt, &c.CreatedAt, &c.FinishedAt)
	return c, err
}

// Limit scopes: what a throttle counts challenges by.
const (
	LimitAddress = "address" // the number or email address codes go to
	LimitUser    = "user"
	LimitContact = "contact"
	LimitAll     = "all"
)

// Limit is one throttle against SMS pumping: at most Max challenges (of
// Purpose, or any when empty) in the scope per Window. Canceled challenges,
// which sent nothing, do not count.
type Limit struct {
	Scope   string
	Purpose string
	Window  time.Duration
	Max     int
	// Message is the sentence a refused caller reads.
	Message string
}

// challengeLock serialises challenge creation, so that throttles hold
// exactly across processes.
const challengeLock = 0x6b6c78_636f6465 // "klx" "code"

// checkLimits refuses, with an EThrottled error carrying the time until the
// first limit hit frees up, a new challenge like ch. It takes the challenge
// lock for the rest of tx.
func checkLimits(ctx context.Context, tx pgx.Tx, ch Challenge, limits []Limit) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(challengeLock)); err != nil {
		return fmt.Errorf("check limits: %w", err)
	}
	for _, l := range limits {
		if l.Max <= 0 || l.Window <= 0 {
			continue
		}
		var scope string
		var arg any
		switch l.Scope {
		case LimitAddress:
			scope, arg = "address = $4", ch.Address
		case LimitUser:
			if ch.UserID == 0 {
				continue
			}
			scope, arg = "user_id = $4", ch.UserID
		case LimitContact:
			if ch.ContactID == 0 {
				continue
			}
			scope, arg = "contact_id = $4", ch.ContactID
		case LimitAll:
			scope, arg = "$4::text = ''", ""
		default:
			return fmt.Errorf("check limits: unknown scope %q", l.Scope)
		}
		// Once the Max-th newest challenge in the window leaves it, there
		// is room for one more.
		var secs float64
		err := tx.QueryRow(ctx, `
			SELECT EXTRACT(EPOCH FROM created_at + make_interval(secs => $1) - now())::float8
			FROM challenges
			WHERE `+scope+` AND ($3 = '' OR purpose = $3) AND status <> 'canceled'
			  AND created_at > now() - make_interval(secs => $1)
			ORDER BY created_at DESC OFFSET $2 LIMIT 1`,
			l.Window.Seconds(), l.Max-1, l.Purpose, arg).Scan(&secs)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check limits: %w", err)
		}
		wait := time.Duration(math.Ceil(math.Max(secs, 1))) * time.Second
		return &klaxon.Error{Code: klaxon.EThrottled, Message: l.Message, RetryAfter: wait}
	}
	return nil
}

func insertChallenge(ctx context.Context, tx pgx.Tx, ch Challenge) (Challenge, error) {
	var contact, user *int64
	if ch.ContactID != 0 {
		contact = &ch.ContactID
	}
	if ch.UserID != 0 {
		user = &ch.UserID
	}
	out, err := scanChallenge(tx.QueryRow(ctx, `
		INSERT INTO challenges (id, purpose, contact_id, user_id, medium, address, max_attempts)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING `+challengeColumns,
		ch.ID, ch.Purpose, contact, user, ch.Medium, ch.Address, ch.MaxAttempts))
	if err != nil {
		return out, fmt.Errorf("insert challenge: %w", err)
	}
	return out, nil
}

// VerificationStart is what StartVerification found or did.
type VerificationStart struct {
	Contact Contact
	// Challenge is the verification under way (zero when the contact is
	// already verified).
	Challenge Challenge
	// New reports that Challenge was created now: a first code is due.
	New bool
}

// StartVerification adds a contact method (or finds the same one) and the
// verification of it, in one transaction: a verified contact needs none; a
// verification under way is returned as it is; otherwise a new challenge
// with the id newID(contact id) is created, if the limits allow. A refusal
// changes nothing, not even the contact. With c.ID set, the contact must
// exist already (a resend after the previous verification ended).
func (s *Store) StartVerification(ctx context.Context, c Contact, newID func(contactID int64) string, maxAttempts int, limits []Limit) (VerificationStart, error) {
	var out VerificationStart
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if c.ID == 0 {
			if _, err := tx.Exec(ctx, `
				INSERT INTO contact_methods (user_id, type, address) VALUES ($1, $2, $3)
				ON CONFLICT (user_id, type, address) DO NOTHING`, c.UserID, c.Type, c.Address); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT id FROM contact_methods WHERE user_id = $1 AND type = $2 AND address = $3`,
				c.UserID, c.Type, c.Address).Scan(&c.ID); err != nil {
				return err
			}
		}
		// Lock the contact: one verification decision at a time per contact.
		err := tx.QueryRow(ctx, `
			SELECT id, user_id, type, address, status, verified_at, created_at
			FROM contact_methods WHERE id = $1 FOR UPDATE`, c.ID).
			Scan(&c.ID, &c.UserID, &c.Type, &c.Address, &c.Status, &c.VerifiedAt, &c.CreatedAt)
		if err != nil {
			return notFound(err)
		}
		out.Contact = c
		if c.Status == ContactVerified {
			return nil
		}
		ch, err := scanChallenge(tx.QueryRow(ctx, `SELECT `+challengeColumns+` FROM challenges
			WHERE contact_id = $1 AND status = 'pending'`, c.ID))
		if err == nil {
			out.Challenge = ch
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		ch = Challenge{ID: newID(c.ID), Purpose: PurposeVerify, ContactID: c.ID, UserID: c.UserID,
			Medium: c.Type, Address: c.Address, MaxAttempts: maxAttempts}
		if err := checkLimits(ctx, tx, ch, limits); err != nil {
			return err
		}
		if out.Challenge, err = insertChallenge(ctx, tx, ch); err != nil {
			return err
		}
		out.New = true
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("start verification: %w", err)
	}
	return out, nil
}

// StartOTP creates a login-code challenge, if the limits allow.
func (s *Store) StartOTP(ctx context.Context, ch Challenge, limits []Limit) (Challenge, error) {
	ch.Purpose = PurposeOTP
	ch.ContactID = 0
	var out Challenge
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := checkLimits(ctx, tx, ch, limits); err != nil {
			return err
		}
		var err error
		out, err = insertChallenge(ctx, tx, ch)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("start otp: %w", err)
	}
	return out, nil
}

// ChallengeByID returns a challenge, or klaxon.ErrNotFound.
func (s *Store) ChallengeByID(ctx context.Context, id string) (Challenge, error) {
	ch, err := scanChallenge(s.pool.QueryRow(ctx, `SELECT `+challengeColumns+` FROM challenges WHERE id = $1`, id))
	if err != nil {
		return ch, fmt.Errorf("challenge: %w", notFound(err))
	}
	return ch, nil
}

// LatestChallenges returns the newest challenge of each of the contacts
// that has one.
func (s *Store) LatestChallenges(ctx context.Context, contactIDs []int64) (map[int64]Challenge, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT ON (contact_id) `+challengeColumns+` FROM challenges
		WHERE contact_id = ANY($1) ORDER BY contact_id, created_at DESC, id DESC`, contactIDs)
	if err != nil {
		return nil, fmt.Errorf("latest challenges: %w", err)
	}
	chs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Challenge, error) { return scanChallenge(r) })
	if err != nil {
		return nil, fmt.Errorf("latest challenges: %w", err)
	}
	out := make(map[int64]Challenge, len(chs))
	for _, c := range chs {
		out[c.ContactID] = c
	}
	return out, nil
}

// PendingCodeReply returns the verification under way of a phone contact
// method at number that a code texted from number answers. One phone often
// has its SMS and voice methods verified side by side, so the newest
// challenge whose current code match accepts wins; when none does (or match
// is nil) the newest, which then counts the wrong try.
func (s *Store) PendingCodeReply(ctx context.Context, number string, match func(salt, hash []byte) bool) (Challenge, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+challengeColumns+`, salt, code_hash FROM challenges
		WHERE address = $1 AND purpose = 'verify' AND medium IN ('sms', 'voice') AND status = 'pending'
		  AND code_hash IS NOT NULL
		ORDER BY created_at DESC, id DESC LIMIT 10`, number)
	if err != nil {
		return Challenge{}, fmt.Errorf("pending code reply: %w", err)
	}
	defer rows.Close()
	var newest Challenge
	for n := 0; rows.Next(); n++ {
		var c Challenge
		var salt, hash []byte
		if err := rows.Scan(&c.ID, &c.Purpose, &c.ContactID, &c.UserID, &c.Medium, &c.Address, &c.Status,
			&c.Sends, &c.Attempts, &c.MaxAttempts, &c.SentAt, &c.ExpiresAt, &c.CreatedAt, &c.FinishedAt,
			&salt, &hash); err != nil {
			return Challenge{}, fmt.Errorf("pending code reply: %w", err)
		}
		if n == 0 {
			newest = c
		}
		if match != nil && match(salt, hash) {
			return c, nil
		}
	}
	if err := rows.Err(); err != nil {
		return Challenge{}, fmt.Errorf("pending code reply: %w", err)
	}
	if newest.ID == "" {
		return newest, fmt.Errorf("pending code reply: %w", klaxon.Errorf(klaxon.ENotFound, "no verification is waiting for this number"))
	}
	return newest, nil
}

// SetCode stores the salted hash of a challenge's send-th code, replacing
// the previous one, and starts its expiry. It returns ErrChallengeClosed
// when the challenge has ended.
func (s *Store) SetCode(ctx context.Context, id string, send int, salt, hash []byte, ttl time.Duration) (Challenge, error) {
	ch, err := scanChallenge(s.pool.QueryRow(ctx, `
		UPDATE challenges SET salt = $3, code_hash = $4, sends = GREATEST(sends, $2),
			sent_at = now(), expires_at = now() + make_interval(secs => $5)
		WHERE id = $1 AND status = 'pending'
		RETURNING `+challengeColumns, id, send, salt, hash, ttl.Seconds()))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, err := s.ChallengeByID(ctx, id); err != nil {
			return ch, fmt.Errorf("set code: %w", err)
		}
		return ch, fmt.Errorf("set code: %w", ErrChallengeClosed)
	}
	if err != nil {
		return ch, fmt.Errorf("set code: %w", err)
	}
	return ch, nil
}

// CodeCheck is the outcome of one code check.
type CodeCheck struct {
	// Outcome is CodeValid, CodeInvalid, CodeExpired, CodeLocked or
	// CodeClosed.
	Outcome string
	// Status is the challenge's status after the check.
	Status      string
	Attempts    int
	MaxAttempts int
}

// CheckCode checks a code against a challenge in one transaction: match
// compares the code with the stored salt and hash (in constant time). A
// check of a pending, unexpired challenge counts one attempt; the right code
// verifies it (and its contact method); the last allowed wrong one locks it.
// An unknown challenge is CodeClosed, like an ended one.
func (s *Store) CheckCode(ctx context.Context, id string, match func(salt, hash []byte) bool) (CodeCheck, error) {
	var out CodeCheck
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var salt, hash []byte
		var contactID *int64
		var expired bool
		err := tx.QueryRow(ctx, `
			SELECT status, attempts, max_attempts, salt, code_hash, contact_id, COALESCE(expires_at <= now(), false)
			FROM challenges WHERE id = $1 FOR UPDATE`, id).
			Scan(&out.Status, &out.Attempts, &out.MaxAttempts, &salt, &hash, &contactID, &expired)
		if errors.Is(err, pgx.ErrNoRows) {
			out.Outcome, out.Status = CodeClosed, ""
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case out.Status != ChallengePending:
			out.Outcome = CodeClosed
			return nil
		case hash == nil:
			// No code was sent yet: nothing can match, and the caller
			// did not waste a try.
			out.Outcome = CodeInvalid
			return nil
		case expired:
			out.Outcome, out.Status = CodeExpired, ChallengeExpired
			return finishTx(ctx, tx, id, ChallengeExpired)
		}
		out.Attempts++
		switch {
		case match(salt, hash):
			out.Outcome, out.Status = CodeValid, ChallengeVerified
			if contactID != nil {
				if _, err := tx.Exec(ctx, `
					UPDATE contact_methods SET status = 'verified', verified_at = COALESCE(verified_at, now())
					WHERE id = $1`, *contactID); err != nil {
					return err
				}
			}
		case out.Attempts >= out.MaxAttempts:
			out.Outcome, out.Status = CodeLocked, ChallengeLocked
		default:
			out.Outcome = CodeInvalid
		}
		if _, err := tx.Exec(ctx, `UPDATE challenges SET attempts = $2 WHERE id = $1`, id, out.Attempts); err != nil {
			return err
		}
		if out.Status != ChallengePending {
			return finishTx(ctx, tx, id, out.Status)
		}
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("check code: %w", err)
	}
	return out, nil
}

// FinishChallenge ends a pending challenge with status (expired, failed,
// canceled) and returns the challenge's status afterwards: status, or the
// final status it had already reached.
func (s *Store) FinishChallenge(ctx context.Context, id, status string) (string, error) {
	var final string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT status FROM challenges WHERE id = $1 FOR UPDATE`, id).Scan(&final); err != nil {
			return notFound(err)
		}
		if final != ChallengePending {
			return nil
		}
		final = status
		return finishTx(ctx, tx, id, status)
	})
	if err != nil {
		return final, fmt.Errorf("finish challenge: %w", err)
	}
	return final, nil
}

// finishTx ends a challenge and masks the digits of the codes in its
// messages' recorded bodies: an ended challenge's codes are of no use, and
// the audit log should not hold working ones.
func finishTx(ctx context.Context, tx pgx.Tx, id, status string) error {
	if _, err := tx.Exec(ctx, `UPDATE challenges SET status = $2, finished_at = now() WHERE id = $1`, id, status); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		UPDATE messages SET body = regexp_replace(body, '[0-9]', '*', 'g'), updated_at = now()
		WHERE ref = $1 AND purpose IN ('verify', 'otp')`, id)
	return err
}

// VerifiedCodeMatches reports whether code (through match) is the one that
// verified the contact: a client repeating a successful verification gets
// the same answer.
func (s *Store) VerifiedCodeMatches(ctx context.Context, contactID int64, match func(salt, hash []byte) bool) (bool, error) {
	var salt, hash []byte
	err := s.pool.QueryRow(ctx, `
		SELECT salt, code_hash FROM challenges
		WHERE contact_id = $1 AND status = 'verified' AND code_hash IS NOT NULL
		ORDER BY finished_at DESC LIMIT 1`, contactID).Scan(&salt, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("verified code matches: %w", err)
	}
	return match(salt, hash), nil
}
