package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
)

// ChatLine is one line Klaxon says in chat: the outbox's row, whose id is
// all that Temporal carries.
type ChatLine struct {
	ID        int64
	Network   string
	Target    string
	Body      string
	Notice    bool
	DedupKey  string
	MessageID string
	// ThreadOf, PageID, PageEvent, Headline and Conversation are what a
	// network with threads and edits (Matrix) makes of the line: see
	// chat.Outgoing. Other networks say the body.
	ThreadOf     string
	PageID       int64
	PageEvent    string
	Headline     string
	Conversation string
	CreatedAt    time.Time
	SentAt       *time.Time
}

// AddChatLine records a line to say. A repeated dedup key returns the line
// recorded first, with fresh=false.
func (s *Store) AddChatLine(ctx context.Context, l ChatLine) (ChatLine, bool, error) {
	var dedup, msg *string
	if l.DedupKey != "" {
		dedup = &l.DedupKey
	}
	if l.MessageID != "" {
		msg = &l.MessageID
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO chat_lines (network, target, body, notice, dedup_key, message_id,
			thread_of, page_id, page_event, headline, conversation)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (dedup_key) DO NOTHING
		RETURNING id, created_at`, l.Network, l.Target, l.Body, l.Notice, dedup, msg,
		l.ThreadOf, nullable(l.PageID), l.PageEvent, l.Headline, l.Conversation).Scan(&l.ID, &l.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		cur, err := s.chatLineWhere(ctx, `dedup_key = $1`, l.DedupKey)
		return cur, false, err
	}
	if err != nil {
		return l, false, fmt.Errorf("add chat line: %w", err)
	}
	return l, true, nil
}

// ChatLineByID returns a line, or klaxon.ErrNotFound.
func (s *Store) ChatLineByID(ctx context.Context, id int64) (ChatLine, error) {
	return s.chatLineWhere(ctx, `id = $1`, id)
}

func (s *Store) chatLineWhere(ctx context.Context, where string, arg any) (ChatLine, error) {
	var l ChatLine
	var dedup, msg *string
	var page *int64
	err := s.pool.QueryRow(ctx, `
		SELECT id, network, target, body, notice, dedup_key, message_id, created_at, sent_at,
			thread_of, page_id, page_event, headline, conversation
		FROM chat_lines WHERE `+where, arg).
		Scan(&l.ID, &l.Network, &l.Target, &l.Body, &l.Notice, &dedup, &msg, &l.CreatedAt, &l.SentAt,
			&l.ThreadOf, &page, &l.PageEvent, &l.Headline, &l.Conversation)
	if err != nil {
		return l, fmt.Errorf("chat line: %w", notFound(err))
	}
	if dedup != nil {
		l.DedupKey = *dedup
	}
	if msg != nil {
		l.MessageID = *msg
	}
	if page != nil {
		l.PageID = *page
	}
	return l, nil
}

// MarkChatLineSent records that the network took a line.
func (s *Store) MarkChatLineSent(ctx context.Context, id int64, networkID string) error {
	if _, err := s.pool.Exec(ctx, `
		UPDATE chat_lines SET sent_at = now(), network_id = $2 WHERE id = $1 AND sent_at IS NULL`, id, networkID); err != nil {
		return fmt.Errorf("mark chat line sent: %w", err)
	}
	return nil
}

// ChatInbound is one chat line the bot accepted.
type ChatInbound struct {
	ID       int64
	Network  string
	DedupKey string
	Nick     string
	Account  string
	Target   string
	Private  bool
	Body     string
	// ThreadOf is the event the line threads under or replies to, where
	// the network has threads (Matrix): its answers go in that thread.
	ThreadOf    string
	ReceivedAt  time.Time
	ProcessedAt *time.Time
}

// RecordChatInbound makes a chat line durable, once per dedup key: a
// repeated key returns the row recorded first, with fresh=false.
func (s *Store) RecordChatInbound(ctx context.Context, in ChatInbound) (ChatInbound, bool, error) {
	err := s.pool.QueryRow(ctx, `
		INSERT INTO chat_inbound (network, dedup_key, nick, account, target, private, body, thread_of)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (dedup_key) DO NOTHING
		RETURNING id, received_at`, in.Network, in.DedupKey, in.Nick, in.Account, in.Target, in.Private, in.Body, in.ThreadOf).
		Scan(&in.ID, &in.ReceivedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		rows, err := s.chatInboundWhere(ctx, `dedup_key = $1`, in.DedupKey)
		if err != nil || len(rows) == 0 {
			return in, false, fmt.Errorf("record chat line: %w", notFound(errors.Join(err, pgx.ErrNoRows)))
		}
		return rows[0], false, nil
	}
	if err != nil {
		return in, false, fmt.Errorf("record chat line: %w", err)
	}
	return in, true, nil
}

// UnprocessedChatInbound lists a network's accepted lines not yet
// handled, oldest first.
func (s *Store) UnprocessedChatInbound(ctx context.Context, network string, limit int) ([]ChatInbound, error) {
	return s.chatInboundWhere(ctx, `network = $1 AND processed_at IS NULL ORDER BY id LIMIT `+fmt.Sprint(limit), network)
}

func (s *Store) chatInboundWhere(ctx context.Context, where string, arg any) ([]ChatInbound, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, network, dedup_key, nick, account, target, private, body, thread_of, received_at, processed_at
		FROM chat_inbound WHERE `+where, arg)
	if err != nil {
		return nil, fmt.Errorf("chat inbound: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ChatInbound, error) {
		var in ChatInbound
		err := r.Scan(&in.ID, &in.Network, &in.DedupKey, &in.Nick, &in.Account, &in.Target, &in.Private, &in.Body, &in.ThreadOf,
			&in.ReceivedAt, &in.ProcessedAt)
		return in, err
	})
	if err != nil {
		return nil, fmt.Errorf("chat inbound: %w", err)
	}
	return out, nil
}

// MarkChatInboundProcessed records that a chat line was handled.
func (s *Store) MarkChatInboundProcessed(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE chat_inbound SET processed_at = now() WHERE id = $1 AND processed_at IS NULL`, id); err != nil {
		return fmt.Errorf("mark chat line processed: %w", err)
	}
	return nil
}

// ChatSMS is a text sent from chat: where to tell its asker if it fails.
type ChatSMS struct {
	MessageID string
	Network   string
	ReplyTo   string
	Asker     string
	// Nick is the recipient's nick, as the asker was told it.
	Nick string
}

// RecordChatSMS remembers a text sent from chat (once per message id).
func (s *Store) RecordChatSMS(ctx context.Context, c ChatSMS) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO chat_sms (message_id, network, reply_to, asker, nick) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (message_id) DO NOTHING`, c.MessageID, c.Network, c.ReplyTo, c.Asker, c.Nick); err != nil {
		return fmt.Errorf("record chat sms: %w", err)
	}
	return nil
}

// ClaimChatSMSFailure returns the text sent from chat that message id is,
// the first time it is asked (so the asker is told of a failure once);
// ok=false when it is no text from chat or was told already.
func (s *Store) ClaimChatSMSFailure(ctx context.Context, messageID string) (ChatSMS, bool, error) {
	c := ChatSMS{MessageID: messageID}
	err := s.pool.QueryRow(ctx, `
		UPDATE chat_sms SET told = true WHERE message_id = $1 AND NOT told
		RETURNING network, reply_to, asker, nick`, messageID).Scan(&c.Network, &c.ReplyTo, &c.Asker, &c.Nick)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("claim chat sms failure: %w", err)
	}
	return c, true, nil
}

// UsersByName returns the active users a chat name may mean: the user
// whose nick or handle it is, without regard to case. Two users means the
// name is ambiguous (one's nick is another's handle).
func (s *Store) UsersByName(ctx context.Context, name string) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE active AND (lower(nick) = lower($1) OR handle = lower($1)) ORDER BY id`, name)
	if err != nil {
		return nil, fmt.Errorf("users by name: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("users by name: %w", err)
	}
	return users, nil
}

// UserOfNumber returns the active user whose verified phone contact number
// is, or klaxon.ErrNotFound.
func (s *Store) UserOfNumber(ctx context.Context, number string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = (
		SELECT c.user_id FROM contact_methods c JOIN users u ON u.id = c.user_id
		WHERE c.address = $1 AND c.status = 'verified' AND c.type IN ('sms', 'voice') AND u.active
		ORDER BY c.id LIMIT 1)`, number))
	if err != nil {
		return u, fmt.Errorf("user of number: %w", notFound(err))
	}
	return u, nil
}

// VerifiedPhone returns a user's first verified SMS contact number, or
// klaxon.ErrNotFound.
func (s *Store) VerifiedPhone(ctx context.Context, userID int64) (string, error) {
	var n string
	err := s.pool.QueryRow(ctx, `SELECT address FROM contact_methods
		WHERE user_id = $1 AND type = 'sms' AND status = 'verified' ORDER BY id LIMIT 1`, userID).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("verified phone: %w", notFound(err))
	}
	return n, nil
}

// PageAnnouncement is a page event the team channel hears of.
type PageAnnouncement struct {
	EventID int64
	Kind    string // created, acked, resolved (and, for threads, step, notified, exhausted)
	Page    paging.Page
	By      string
	// User, Medium and Detail are the event's own: whom a notification
	// went to and how, what an escalation step was.
	User   string
	Medium klaxon.Medium
	Detail string
}

// AnnouncedKinds are the page events every team channel hears of.
var AnnouncedKinds = []string{paging.EventCreated, paging.EventAcked, paging.EventResolved}

// ThreadKinds are the page events a page's thread hears of, where the
// network has threads: its escalation and its notifications too.
var ThreadKinds = []string{paging.EventCreated, paging.EventStep, paging.EventNotified, paging.EventExhausted, paging.EventAcked, paging.EventResolved}

// PageAnnouncements returns the created, acked and resolved events after
// the named cursor, oldest first, and the cursor's position; a cursor not
// yet set starts at the newest event (history is not replayed).
func (s *Store) PageAnnouncements(ctx context.Context, cursor string, limit int) ([]PageAnnouncement, int64, error) {
	return s.PageAnnouncementsOf(ctx, cursor, AnnouncedKinds, limit)
}

// PageAnnouncementsOf is PageAnnouncements for the given event kinds.
func (s *Store) PageAnnouncementsOf(ctx context.Context, cursor string, kinds []string, limit int) ([]PageAnnouncement, int64, error) {
	var last int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO chat_cursor (name, last_id) VALUES ($1, (SELECT coalesce(max(id), 0) FROM page_events))
		ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING last_id`, cursor).Scan(&last)
	if err != nil {
		return nil, 0, fmt.Errorf("page announcements: %w", err)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id, kind, page_id, user_handle, medium, detail FROM page_events
		WHERE id > $1 AND kind = ANY($3) ORDER BY id LIMIT $2`, last, limit, kinds)
	if err != nil {
		return nil, last, fmt.Errorf("page announcements: %w", err)
	}
	type ev struct {
		id, page           int64
		kind, user, detail string
		medium             klaxon.Medium
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ev, error) {
		var e ev
		err := r.Scan(&e.id, &e.kind, &e.page, &e.user, &e.medium, &e.detail)
		return e, err
	})
	if err != nil {
		return nil, last, fmt.Errorf("page announcements: %w", err)
	}
	out := make([]PageAnnouncement, 0, len(evs))
	for _, e := range evs {
		pg, err := s.GetPage(ctx, e.page)
		if err != nil {
			return nil, last, fmt.Errorf("page announcements: %w", err)
		}
		a := PageAnnouncement{EventID: e.id, Kind: e.kind, Page: pg, User: e.user, Medium: e.medium, Detail: e.detail}
		switch e.kind {
		case paging.EventAcked:
			a.By = pg.AckedBy
		case paging.EventResolved:
			a.By = pg.ResolvedBy
		default:
			a.By = pg.RequestedBy
		}
		out = append(out, a)
	}
	return out, last, nil
}

// AdvanceChatCursor moves a cursor forward to id.
func (s *Store) AdvanceChatCursor(ctx context.Context, cursor string, id int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE chat_cursor SET last_id = greatest(last_id, $2) WHERE name = $1`, cursor, id); err != nil {
		return fmt.Errorf("advance chat cursor: %w", err)
	}
	return nil
}

// Lock is a session-level Postgres advisory lock held on a dedicated
// connection: it is held until Release, or until the connection (or the
// process) dies, when Postgres frees it for another process.
type Lock struct {
	conn *pgxpool.Conn
	key  string
}

// TryLock takes the advisory lock named key if no other session holds it;
// ok=false when another does.
func (s *Store) TryLock(ctx context.Context, key string) (*Lock, bool, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("try lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, key).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("try lock: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return &Lock{conn: conn, key: key}, true, nil
}

// Check reports an error when the lock's connection no longer answers
// (the lock may then be another's).
func (l *Lock) Check(ctx context.Context) error {
	if err := l.conn.Ping(ctx); err != nil {
		return fmt.Errorf("lock %s: %w", l.key, err)
	}
	return nil
}

// Release lets the lock go. A connection that no longer answers is
// closed, which frees the lock as well.
func (l *Lock) Release(ctx context.Context) {
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtext($1))`, l.key); err != nil {
		_ = l.conn.Conn().Close(ctx)
	}
	l.conn.Release()
}
