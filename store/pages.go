package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
)

// The Purposes of a page's messages: the paging domain's.
const (
	PurposePage    = paging.PurposePage
	PurposeReadout = paging.PurposeReadout
)

const pageColumns = `id, target, summary, details, mode, urgency, COALESCE(dedup_key, ''),
	COALESCE(escalate_after_seconds, 0), requested_by, status, created_at, acked_at, acked_by, resolved_at, resolved_by`

func scanPage(r pgx.Row) (paging.Page, error) {
	var p paging.Page
	err := r.Scan(&p.ID, &p.Target, &p.Summary, &p.Details, &p.Mode, &p.Urgency, &p.DedupKey,
		&p.EscalateAfterSeconds, &p.RequestedBy, &p.Status, &p.CreatedAt, &p.AckedAt, &p.AckedBy, &p.ResolvedAt, &p.ResolvedBy)
	return p, err
}

func nullable[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

// nullableTime is nil for the zero time: "now, as the database sees it".
func nullableTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// CreatePage records a new open page with its "created" event, in one
// statement. When p has a dedup key and a page with that key is still live
// (open or acknowledged), nothing is created and that page is returned with
// created=false.
func (s *Store) CreatePage(ctx context.Context, p paging.Page) (paging.Page, bool, error) {
	if p.Mode == "" {
		p.Mode = paging.ModeEscalate
	}
	if p.Urgency == "" {
		p.Urgency = paging.UrgencyHigh
	}
	detail := p.Target
	if p.RequestedBy != "" {
		detail += " by " + p.RequestedBy
	}
	// A live page with the key may be resolved between our insert's conflict
	// and the look-up; then the insert succeeds on the next try.
	for range 5 {
		out, err := scanPage(s.pool.QueryRow(ctx, `
			WITH ins AS (
				INSERT INTO pages (target, summary, details, mode, urgency, escalate_after_seconds, dedup_key, requested_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (dedup_key) WHERE status <> 'resolved' DO NOTHING
				RETURNING *
			), ev AS (
				INSERT INTO page_events (page_id, kind, key, detail) SELECT id, 'created', 'created', $9 FROM ins
			)
			SELECT `+pageColumns+` FROM ins`,
			p.Target, p.Summary, p.Details, p.Mode, p.Urgency, nullable(p.EscalateAfterSeconds), nullable(p.DedupKey), p.RequestedBy, detail))
		if err == nil {
			return out, true, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return p, false, fmt.Errorf("create page: %w", err)
		}
		out, err = scanPage(s.pool.QueryRow(ctx, `SELECT `+pageColumns+` FROM pages WHERE dedup_key = $1 AND status <> 'resolved'`, p.DedupKey))
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return p, false, fmt.Errorf("create page: %w", err)
		}
		return out, false, nil
	}
	return p, false, errors.New("create page: the dedup key keeps changing hands; try again")
}

// UserReachability returns the user with handle (its Active flag set) and
// how many verified contact methods they have, in one round trip; klaxon.ErrNotFound when
// there is no such user.
func (s *Store) UserReachability(ctx context.Context, handle string) (User, int, error) {
	var u User
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.handle, u.name, u.timezone, u.active, u.created_at,
		       (SELECT count(*) FROM contact_methods c WHERE c.user_id = u.id AND c.status = 'verified')
		FROM users u WHERE u.handle = $1`, handle).Scan(&u.ID, &u.Handle, &u.Name, &u.Timezone, &u.Active, &u.CreatedAt, &n)
	if err != nil {
		return u, 0, fmt.Errorf("user reachability: %w", notFound(err))
	}
	return u, n, nil
}

// DeletePage removes a page that never started (its workflow could not be
// started), so that it does not hold its dedup key.
func (s *Store) DeletePage(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM pages WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete page: %w", err)
	}
	return nil
}

// GetPage returns a page, or klaxon.ErrNotFound.
func (s *Store) GetPage(ctx context.Context, id int64) (paging.Page, error) {
	p, err := scanPage(s.pool.QueryRow(ctx, `SELECT `+pageColumns+` FROM pages WHERE id = $1`, id))
	if err != nil {
		return p, fmt.Errorf("get page: %w", notFound(err))
	}
	return p, nil
}

// ListPages returns up to limit pages with the given status (any for ""),
// newest first.
func (s *Store) ListPages(ctx context.Context, status string, limit int) ([]paging.Page, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+pageColumns+` FROM pages WHERE $1 = '' OR status = $1 ORDER BY id DESC LIMIT $2`, status, limit)
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (paging.Page, error) { return scanPage(r) })
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	return ps, nil
}

// PageEvents returns a page's timeline in the order things happened
// (OrderTimeline).
func (s *Store) PageEvents(ctx context.Context, pageID int64) ([]paging.Event, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT kind, COALESCE(key, ''), user_handle, medium, contact, message_id, detail, at
		FROM page_events WHERE page_id = $1 ORDER BY at, id`, pageID)
	if err != nil {
		return nil, fmt.Errorf("page events: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (paging.Event, error) {
		var e paging.Event
		err := r.Scan(&e.Kind, &e.Key, &e.User, &e.Medium, &e.Contact, &e.MessageID, &e.Detail, &e.At)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("page events: %w", err)
	}
	OrderTimeline(evs)
	return evs, nil
}

// RecordPageEvents adds events to a page's timeline in one round trip and
// one transaction, each once per key.
func (s *Store) RecordPageEvents(ctx context.Context, pageID int64, evs []paging.Event) error {
	if len(evs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	queuePageEvents(b, pageID, evs)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("record page events: %w", err)
	}
	return nil
}

// queuePageEvents queues the insert of each event, once per key.
func queuePageEvents(b *pgx.Batch, pageID int64, evs []paging.Event) {
	for _, e := range evs {
		b.Queue(`
			INSERT INTO page_events (page_id, kind, key, user_handle, medium, contact, message_id, detail, at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, now()))
			ON CONFLICT (page_id, key) DO NOTHING`,
			pageID, e.Kind, nullable(e.Key), e.User, string(e.Medium), e.Contact, e.MessageID, e.Detail, nullableTime(e.At))
	}
}

// RecordNotification writes a notification's timeline entries (each once
// per key), points a bare "a" from phone (if any) at the page, and returns
// the status callbacks already stored for providerID (if any) — all in one
// round trip and one transaction.
func (s *Store) RecordNotification(ctx context.Context, pageID int64, evs []paging.Event, phone, providerID string) ([]StatusEvent, error) {
	b := &pgx.Batch{}
	queuePageEvents(b, pageID, evs)
	if phone != "" {
		b.Queue(`UPDATE page_reply_codes SET notified_at = now() WHERE page_id = $1 AND phone = $2`, pageID, phone)
	}
	var statuses []StatusEvent
	if providerID != "" {
		b.Queue(`
			SELECT status, detail, error_code, received_at FROM status_events
			WHERE provider_id = $1 ORDER BY received_at, id`, providerID).Query(func(rows pgx.Rows) error {
			var err error
			statuses, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (StatusEvent, error) {
				var e StatusEvent
				err := r.Scan(&e.Status, &e.Detail, &e.ErrorCode, &e.ReceivedAt)
				return e, err
			})
			return err
		})
	}
	if b.Len() == 0 {
		return nil, nil
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("record notification: %w", err)
	}
	return statuses, nil
}

// RecordPageEvent adds an event to a page's timeline, once per e.Key.
func (s *Store) RecordPageEvent(ctx context.Context, pageID int64, e paging.Event) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO page_events (page_id, kind, key, user_handle, medium, contact, message_id, detail, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, COALESCE($9, now()))
		ON CONFLICT (page_id, key) DO NOTHING`,
		pageID, e.Kind, nullable(e.Key), e.User, string(e.Medium), e.Contact, e.MessageID, e.Detail, nullableTime(e.At))
	if err != nil {
		return fmt.Errorf("record page event: %w", err)
	}
	return nil
}

// PageTransition is the outcome of acknowledging or resolving a page.
type PageTransition struct {
	paging.Page
	// Changed is false when the page was already in (or past) that state.
	Changed bool
}

// AckPage marks an open page acknowledged by `by`, records the event, and
// marks every one of its messages that no provider has accepted yet as
// canceled, so that a sender still waiting for its rate limit gives up. An
// acknowledged or resolved page is returned unchanged.
func (s *Store) AckPage(ctx context.Context, id int64, by, via string) (PageTransition, error) {
	return s.transition(ctx, id, paging.StatusAcked, by, via)
}

// ResolvePage marks a page resolved by `by`, records the event, cancels its
// unsent messages, and frees its reply codes. A resolved page is returned
// unchanged.
func (s *Store) ResolvePage(ctx context.Context, id int64, by, via string) (PageTransition, error) {
	return s.transition(ctx, id, paging.StatusResolved, by, via)
}

func (s *Store) transition(ctx context.Context, id int64, to, by, via string) (PageTransition, error) {
	var t PageTransition
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var q string
		if to == paging.StatusAcked {
			q = `UPDATE pages SET status = 'acked', acked_at = now(), acked_by = $2 WHERE id = $1 AND status = 'open' RETURNING ` + pageColumns
		} else {
			q = `UPDATE pages SET status = 'resolved', resolved_at = now(), resolved_by = $2 WHERE id = $1 AND status <> 'resolved' RETURNING ` + pageColumns
		}
		p, err := scanPage(tx.QueryRow(ctx, q, id, by))
		if errors.Is(err, pgx.ErrNoRows) {
			t.Page, err = scanPage(tx.QueryRow(ctx, `SELECT `+pageColumns+` FROM pages WHERE id = $1`, id))
			return notFound(err)
		}
		if err != nil {
			return err
		}
		t.Page, t.Changed = p, true
		detail := ""
		if via != "" {
			detail = "via " + via
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO page_events (page_id, kind, key, user_handle, detail) VALUES ($1, $2, $2, $3, $4)
			ON CONFLICT (page_id, key) DO NOTHING`, id, to, by, detail); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE messages SET status = 'canceled', status_rank = 4, error_kind = 'Canceled',
				error_reason = 'the page was ' || $2, updated_at = now()
			WHERE purpose = 'page' AND ref = $1 AND provider_id IS NULL AND status_rank < 4`,
			strconv.FormatInt(id, 10), to); err != nil {
			return err
		}
		if to == paging.StatusResolved {
			if _, err := tx.Exec(ctx, `UPDATE page_reply_codes SET freed_at = now() WHERE page_id = $1 AND freed_at IS NULL`, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return t, fmt.Errorf("%s page: %w", to, err)
	}
	return t, nil
}

// ReplyCode is the short number one phone uses to answer one page.
type ReplyCode struct {
	Phone  string
	Code   int
	PageID int64
	// UserID is the person the phone belongs to (0 if unknown).
	UserID int64
	// Freed reports that the page was resolved and the code freed.
	Freed bool
}

// freedCodeMemory is how long a freed code still answers "already resolved"
// rather than "no such page".
const freedCodeMemory = "7 days"

// AllocateReplyCode returns the reply code of phone for a page: the one it
// already has, or the lowest code no other live page uses on that phone. It
// is one statement; two pages that race for the same code on one phone meet
// at the unique index, and the loser takes the next free code.
func (s *Store) AllocateReplyCode(ctx context.Context, pageID int64, phone string, userID int64) (int, error) {
	for range 50 {
		var code int
		err := s.pool.QueryRow(ctx, `
			WITH existing AS (
				SELECT code FROM page_reply_codes WHERE page_id = $1 AND phone = $2
			), live AS (
				SELECT code FROM page_reply_codes WHERE phone = $2 AND freed_at IS NULL
			), free AS (
				SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM live WHERE code = 1) THEN 1
				       ELSE (SELECT min(l.code) + 1 FROM live l WHERE NOT EXISTS (SELECT 1 FROM live n WHERE n.code = l.code + 1))
				       END AS code
			), ins AS (
				INSERT INTO page_reply_codes (phone, code, page_id, user_id)
				SELECT $2, free.code, $1, $3 FROM free WHERE free.code <= 9999 AND NOT EXISTS (SELECT 1 FROM existing)
				ON CONFLICT DO NOTHING
				RETURNING code
			)
			SELECT code FROM existing UNION ALL SELECT code FROM ins`, pageID, phone, nullable(userID)).Scan(&code)
		if err == nil {
			return code, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("allocate reply code: %w", err)
		}
		var live int
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM page_reply_codes WHERE phone = $1 AND freed_at IS NULL`, phone).Scan(&live); err != nil {
			return 0, fmt.Errorf("allocate reply code: %w", err)
		}
		if live >= 9999 {
			return 0, errors.New("allocate reply code: every code of the phone is in use")
		}
	}
	return 0, errors.New("allocate reply code: too much contention for the phone's codes; try again")
}

// ReplyCodeFor returns the page that code names for phone: the live page
// with that code or, failing that, the page that freed it most recently
// (within a week), with Freed set. Code 0 means the live page most recently
// texted to phone. Nothing found is klaxon.ErrNotFound.
func (s *Store) ReplyCodeFor(ctx context.Context, phone string, code int) (ReplyCode, error) {
	rc := ReplyCode{Phone: phone}
	var uid *int64
	var err error
	if code == 0 {
		err = s.pool.QueryRow(ctx, `
			SELECT code, page_id, user_id, false FROM page_reply_codes WHERE phone = $1 AND freed_at IS NULL
			ORDER BY notified_at DESC NULLS LAST, created_at DESC, code DESC LIMIT 1`, phone).Scan(&rc.Code, &rc.PageID, &uid, &rc.Freed)
	} else {
		rc.Code = code
		err = s.pool.QueryRow(ctx, `
			SELECT page_id, user_id, freed_at IS NOT NULL FROM page_reply_codes
			WHERE phone = $1 AND code = $2 AND (freed_at IS NULL OR freed_at > now() - interval '`+freedCodeMemory+`')
			ORDER BY freed_at DESC NULLS FIRST LIMIT 1`, phone, code).Scan(&rc.PageID, &uid, &rc.Freed)
	}
	if err != nil {
		return rc, fmt.Errorf("reply code: %w", notFound(err))
	}
	if uid != nil {
		rc.UserID = *uid
	}
	return rc, nil
}

// LiveReplyCodes returns the codes of phone's live pages, lowest first.
func (s *Store) LiveReplyCodes(ctx context.Context, phone string) ([]int, error) {
	rows, err := s.pool.Query(ctx, `SELECT code FROM page_reply_codes WHERE phone = $1 AND freed_at IS NULL ORDER BY code`, phone)
	if err != nil {
		return nil, fmt.Errorf("live reply codes: %w", err)
	}
	codes, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("live reply codes: %w", err)
	}
	return codes, nil
}

// ReplyCodeOfPage returns the reply code phone has for a page, or
// klaxon.ErrNotFound.
func (s *Store) ReplyCodeOfPage(ctx context.Context, pageID int64, phone string) (ReplyCode, error) {
	rc := ReplyCode{Phone: phone, PageID: pageID}
	var uid *int64
	err := s.pool.QueryRow(ctx, `SELECT code, user_id, freed_at IS NOT NULL FROM page_reply_codes WHERE page_id = $1 AND phone = $2`, pageID, phone).
		Scan(&rc.Code, &uid, &rc.Freed)
	if err != nil {
		return rc, fmt.Errorf("reply code of page: %w", notFound(err))
	}
	if uid != nil {
		rc.UserID = *uid
	}
	return rc, nil
}

// PageRecipient returns the user whom phone belongs to among the people a
// page reached, if phone is one of that user's verified contacts; else
// klaxon.ErrNotFound.
func (s *Store) PageRecipient(ctx context.Context, pageID int64, phone string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.handle, u.name, u.timezone, u.created_at
		FROM page_reply_codes r
		JOIN contact_methods c ON c.user_id = r.user_id AND c.address = $2 AND c.status = 'verified'
		JOIN users u ON u.id = r.user_id
		WHERE r.page_id = $1
		ORDER BY (r.phone = $2) DESC, u.id LIMIT 1`, pageID, phone).
		Scan(&u.ID, &u.Handle, &u.Name, &u.Timezone, &u.CreatedAt)
	if err != nil {
		return u, fmt.Errorf("page recipient: %w", notFound(err))
	}
	return u, nil
}

// LiveCallsOfPage returns the provider ids (CallSids) of a page's calls that
// a provider accepted and that have not ended, except the one given. A call
// whose delivery was canceled while the provider was accepting it counts:
// it may be ringing.
func (s *Store) LiveCallsOfPage(ctx context.Context, pageID int64, except string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT provider_id FROM messages
		WHERE purpose = 'page' AND ref = $1 AND medium = 'voice' AND provider_id IS NOT NULL
		  AND provider_id <> $2 AND status NOT IN ('completed', 'no-answer', 'busy', 'failed')
		ORDER BY created_at`, strconv.FormatInt(pageID, 10), except)
	if err != nil {
		return nil, fmt.Errorf("live calls of page: %w", err)
	}
	sids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("live calls of page: %w", err)
	}
	return sids, nil
}

// PageMessage is what a page's message says about where it belongs.
type PageMessage struct {
	PageID int64
	Medium klaxon.Medium
	To     string
}

// PageOfMessage returns the page a message was sent for, or
// klaxon.ErrNotFound when the message is not a page's.
func (s *Store) PageOfMessage(ctx context.Context, messageID string) (PageMessage, error) {
	var pm PageMessage
	var ref string
	err := s.pool.QueryRow(ctx, `SELECT ref, medium, recipient FROM messages WHERE id = $1 AND purpose = 'page'`, messageID).
		Scan(&ref, &pm.Medium, &pm.To)
	if err != nil {
		return pm, fmt.Errorf("page of message: %w", notFound(err))
	}
	if pm.PageID, err = strconv.ParseInt(ref, 10, 64); err != nil {
		return pm, fmt.Errorf("page of message: ref %q is not a page id: %w", ref, klaxon.ErrNotFound)
	}
	return pm, nil
}

// MessageCanceled reports whether a message has been canceled: its page
// was acknowledged or resolved while the message waited for a rate-limit
// slot. The delivery pipeline asks after the wait, so that nothing is sent
// that nobody needs any more.
func (s *Store) MessageCanceled(ctx context.Context, id string) (bool, error) {
	var canceled bool
	err := s.pool.QueryRow(ctx, `SELECT status = 'canceled' FROM messages WHERE id = $1`, id).Scan(&canceled)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("message canceled: %w", err)
	}
	return canceled, nil
}

// ClaimErrorReply reports whether the paging number may answer the text of
// inbound event eventID from phone with an error: at most limit error
// replies per phone within window. Asking again for the same event gives
// the same answer.
func (s *Store) ClaimErrorReply(ctx context.Context, phone string, eventID int64, limit int, window time.Duration) (bool, error) {
	var earlier int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO page_error_replies (phone, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, phone, eventID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			DELETE FROM page_error_replies WHERE phone = $1 AND sent_at < now() - interval '1 day'`, phone); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			SELECT count(*) FROM page_error_replies
			WHERE phone = $1 AND event_id < $2 AND sent_at > now() - make_interval(secs => $3)`,
			phone, eventID, window.Seconds()).Scan(&earlier)
	})
	if err != nil {
		return false, fmt.Errorf("claim error reply: %w", err)
	}
	return earlier < limit, nil
}
