package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/channel"
)

// Channel kinds and member roles: the channel domain's.
const (
	KindRegular     = channel.KindRegular
	KindSignup      = channel.KindSignup
	KindDiagnostics = channel.KindDiagnostics

	RoleAdmin      = channel.MemberAdmin
	RoleSubscriber = channel.MemberSubscriber
)

// ErrLastAdmin is returned when the only admin of a channel would leave it.
var ErrLastAdmin = errors.New("the last admin cannot leave the channel")

// Channel and Member are the channel domain's types; the store maps its
// rows to them.
type (
	Channel = channel.Channel
	Member  = channel.Member
)

const channelColumns = `
	SELECT c.id, c.phone, c.kind, c.hotline_on, c.created_at, c.deleted_at,
	       (SELECT count(*) FROM channel_members m WHERE m.channel_id = c.id AND m.role = 'admin'),
	       (SELECT count(*) FROM channel_members m WHERE m.channel_id = c.id AND m.role = 'subscriber')
	FROM channels c`

func scanChannel(r pgx.Row) (Channel, error) {
	var c Channel
	err := r.Scan(&c.ID, &c.Phone, &c.Kind, &c.HotlineOn, &c.CreatedAt, &c.DeletedAt, &c.Admins, &c.Subscribers)
	return c, err
}

// CreateChannel makes a regular channel on number, with admins, for the
// creation request requestID. It is idempotent: the same request again
// returns the channel it made. A number used by another live channel is an
// EConflict error (the database's unique index decides).
func (s *Store) CreateChannel(ctx context.Context, requestID, number string, admins []string) (Channel, error) {
	var id int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			WITH ins AS (
				INSERT INTO channels (phone, request_id) VALUES ($1, $2)
				ON CONFLICT (request_id) DO NOTHING
				RETURNING id
			)
			SELECT id FROM ins UNION ALL SELECT id FROM channels WHERE request_id = $2`, number, requestID).Scan(&id)
		if err != nil {
			return err
		}
		return addAdmins(ctx, tx, id, admins)
	})
	if isUniqueViolation(err, "channels_live_phone") {
		return Channel{}, klaxon.Errorf(klaxon.EConflict, "%s is already used by a channel.", number)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("create channel: %w", err)
	}
	return s.ChannelByID(ctx, id)
}

func addAdmins(ctx context.Context, tx pgx.Tx, channelID int64, admins []string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO channel_members (channel_id, phone, role)
		SELECT $1, p, 'admin' FROM unnest($2::text[]) AS p
		ON CONFLICT (channel_id, phone) DO UPDATE SET role = 'admin'`, channelID, admins)
	return err
}

// EnsureSystemChannels makes sure the signup channel (on signup) and the
// diagnostics channel (on diagnostics) exist with every maintainer as an
// admin, at start. Empty numbers are skipped. Existing admins stay; a system
// channel whose number changed in the configuration moves to the new one.
func (s *Store) EnsureSystemChannels(ctx context.Context, signup, diagnostics string, maintainers []string) error {
	for _, sc := range []struct{ kind, number string }{{KindSignup, signup}, {KindDiagnostics, diagnostics}} {
		if sc.number == "" {
			continue
		}
		if err := s.ensureSystemChannel(ctx, sc.kind, sc.number, maintainers); err != nil {
			return fmt.Errorf("ensure %s channel: %w", sc.kind, err)
		}
	}
	return nil
}

func (s *Store) ensureSystemChannel(ctx context.Context, kind, number string, maintainers []string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('klaxon-system-channels'))`); err != nil {
			return err
		}
		// A system channel on another number (the configuration changed)
		// is retired.
		if _, err := tx.Exec(ctx, `
			UPDATE channels SET deleted_at = now()
			WHERE kind = $1 AND phone <> $2 AND deleted_at IS NULL`, kind, number); err != nil {
			return err
		}
		var id int64
		var have string
		err := tx.QueryRow(ctx, `SELECT id, kind FROM channels WHERE phone = $1 AND deleted_at IS NULL`, number).Scan(&id, &have)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			err = tx.QueryRow(ctx, `
				INSERT INTO channels (phone, kind, hotline_on) VALUES ($1, $2, false) RETURNING id`, number, kind).Scan(&id)
		case err == nil && have != kind:
			return fmt.Errorf("the number is used by a %s channel", have)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO phone_numbers (phone, status, source) VALUES ($1, 'in_use', 'system')
			ON CONFLICT (phone) DO UPDATE SET status = 'in_use', source = 'system', updated_at = now()`, number); err != nil {
			return err
		}
		return addAdmins(ctx, tx, id, maintainers)
	})
}

// ChannelByID returns a channel, live or deleted, or klaxon.ErrNotFound.
func (s *Store) ChannelByID(ctx context.Context, id int64) (Channel, error) {
	c, err := scanChannel(s.pool.QueryRow(ctx, channelColumns+` WHERE c.id = $1`, id))
	if err != nil {
		return c, fmt.Errorf("channel by id: %w", notFound(err))
	}
	return c, nil
}

// ChannelByPhone returns the live channel on number or, when there is none,
// the most recently deleted one (DeletedAt set); klaxon.ErrNotFound when the
// number never had a channel.
func (s *Store) ChannelByPhone(ctx context.Context, number string) (Channel, error) {
	c, err := scanChannel(s.pool.QueryRow(ctx, channelColumns+`
		WHERE c.phone = $1 ORDER BY c.deleted_at IS NULL DESC, c.deleted_at DESC LIMIT 1`, number))
	if err != nil {
		return c, fmt.Errorf("channel by phone: %w", notFound(err))
	}
	return c, nil
}

// SystemChannel returns the live signup or diagnostics channel.
func (s *Store) SystemChannel(ctx context.Context, kind string) (Channel, error) {
	c, err := scanChannel(s.pool.QueryRow(ctx, channelColumns+` WHERE c.kind = $1 AND c.deleted_at IS NULL`, kind))
	if err != nil {
		return c, fmt.Errorf("system channel: %w", notFound(err))
	}
	return c, nil
}

// ListChannels returns every live channel with its counts, oldest first.
func (s *Store) ListChannels(ctx context.Context) ([]Channel, error) {
	rows, err := s.pool.Query(ctx, channelColumns+` WHERE c.deleted_at IS NULL ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	cs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Channel, error) { return scanChannel(r) })
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return cs, nil
}

// DeleteChannel deletes the live channel on number. Its members and hotline
// ids go; its number stays out of the pool until a maintainer adds it again.
func (s *Store) DeleteChannel(ctx context.Context, number string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `
			UPDATE channels SET deleted_at = now() WHERE phone = $1 AND deleted_at IS NULL AND kind = 'regular'
			RETURNING id`, number).Scan(&id)
		if err != nil {
			return notFound(err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM channel_members WHERE channel_id = $1`, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM hotline_ids WHERE channel_id = $1`, id); err != nil {
			return err
		}
		return purgeChannelTx(ctx, tx, id, number)
	})
	if err != nil {
		return fmt.Errorf("delete channel: %w", err)
	}
	return nil
}

// RoleOf returns sender's role on a channel: admin, subscriber, or "" for
// a stranger.
func (s *Store) RoleOf(ctx context.Context, channelID int64, sender string) (string, error) {
	var role string
	err := s.pool.QueryRow(ctx, `SELECT role FROM channel_members WHERE channel_id = $1 AND phone = $2`, channelID, sender).Scan(&role)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("role of: %w", err)
	}
	return role, nil
}

// Members returns a channel's members with role (every member for ""), in
// the order they joined.
func (s *Store) Members(ctx context.Context, channelID int64, role string) ([]Member, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, phone, role FROM channel_members
		WHERE channel_id = $1 AND ($2 = '' OR role = $2) ORDER BY id`, channelID, role)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return collectMembers(rows)
}

// MembersPage returns up to limit members with an id above afterID, in id
// order: a broadcast walks its channel with it, one batch at a time, and
// reaches every member exactly once even while people join and leave.
func (s *Store) MembersPage(ctx context.Context, channelID, afterID int64, limit int) ([]Member, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, phone, role FROM channel_members
		WHERE channel_id = $1 AND id > $2 ORDER BY id LIMIT $3`, channelID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("members page: %w", err)
	}
	return collectMembers(rows)
}

// MembersRange returns up to limit members with ids in (afterID, upToID]
// (no upper bound when upToID is 0), in id order: one broadcast batch.
func (s *Store) MembersRange(ctx context.Context, channelID, afterID, upToID int64, limit int) ([]Member, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, phone, role FROM channel_members
		WHERE channel_id = $1 AND id > $2 AND ($3 = 0 OR id <= $3) ORDER BY id LIMIT $4`, channelID, afterID, upToID, limit)
	if err != nil {
		return nil, fmt.Errorf("members range: %w", err)
	}
	return collectMembers(rows)
}

// MemberBounds splits a channel's members into batches of size by id: it
// returns the id of the last member of every full batch.
func (s *Store) MemberBounds(ctx context.Context, channelID int64, size int) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id FROM (
			SELECT id, row_number() OVER (ORDER BY id) AS n FROM channel_members WHERE channel_id = $1
		) m WHERE n % $2 = 0 ORDER BY id`, channelID, size)
	if err != nil {
		return nil, fmt.Errorf("member bounds: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("member bounds: %w", err)
	}
	return ids, nil
}

func collectMembers(rows pgx.Rows) ([]Member, error) {
	ms, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Member, error) {
		var m Member
		err := r.Scan(&m.ID, &m.Phone, &m.Role)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return ms, nil
}

// AddMember puts number on a channel with role. An admin added as a
// subscriber stays an admin; a subscriber added as an admin is promoted.
// changed reports whether anything changed.
func (s *Store) AddMember(ctx context.Context, channelID int64, number, role string) (m Member, changed bool, err error) {
	err = s.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO channel_members (channel_id, phone, role) VALUES ($1, $2, $3)
			ON CONFLICT (channel_id, phone) DO UPDATE SET role = 'admin'
			WHERE $3 = 'admin' AND channel_members.role <> 'admin'
			RETURNING id, role
		)
		SELECT id, role, true FROM ins
		UNION ALL
		SELECT id, role, false FROM channel_members
		WHERE channel_id = $1 AND phone = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
		channelID, number, role).Scan(&m.ID, &m.Role, &changed)
	if err != nil {
		return m, false, fmt.Errorf("add member: %w", err)
	}
	m.Phone = number
	return m, changed, nil
}

// RemoveMember takes number off a channel; with role set, only if it has
// that role. It refuses (ErrLastAdmin) to remove the last admin. removed
// reports whether it was on the channel.
func (s *Store) RemoveMember(ctx context.Context, channelID int64, number, role string) (removed bool, err error) {
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// Serialise removals per channel so two admins leaving at once
		// cannot leave it with none.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM channels WHERE id = $1 FOR UPDATE`, channelID); err != nil {
			return err
		}
		var have string
		err := tx.QueryRow(ctx, `SELECT role FROM channel_members WHERE channel_id = $1 AND phone = $2`, channelID, number).Scan(&have)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && role != "" && have != role) {
			return nil
		}
		if err != nil {
			return err
		}
		if have == RoleAdmin {
			var admins int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM channel_members WHERE channel_id = $1 AND role = 'admin'`, channelID).Scan(&admins); err != nil {
				return err
			}
			if admins <= 1 {
				return ErrLastAdmin
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM channel_members WHERE channel_id = $1 AND phone = $2`, channelID, number)
		removed = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remove member: %w", err)
	}
	return removed, nil
}

// SetHotline opens or closes a channel's hotline.
func (s *Store) SetHotline(ctx context.Context, channelID int64, on bool) error {
	if _, err := s.pool.Exec(ctx, `UPDATE channels SET hotline_on = $2 WHERE id = $1`, channelID, on); err != nil {
		return fmt.Errorf("set hotline: %w", err)
	}
	return nil
}

// hotlineAlphabet has no look-alike characters (no 0/o, 1/l/i).
const hotlineAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// HotlineID returns sender's hotline id on a channel, making a random one
// the first time: stable per sender per channel, unique within the channel,
// and meaningless anywhere else.
func (s *Store) HotlineID(ctx context.Context, channelID int64, sender string) (string, error) {
	for attempt := range 8 {
		handle := randomHandle(4 + attempt/2)
		var got string
		err := s.pool.QueryRow(ctx, `
			WITH ins AS (
				INSERT INTO hotline_ids (channel_id, sender, handle) VALUES ($1, $2, $3)
				ON CONFLICT (channel_id, sender) DO NOTHING
				RETURNING handle
			)
			SELECT handle FROM ins UNION ALL
			SELECT handle FROM hotline_ids WHERE channel_id = $1 AND sender = $2 AND NOT EXISTS (SELECT 1 FROM ins)`,
			channelID, sender, handle).Scan(&got)
		if isUniqueViolation(err, "hotline_ids_channel_id_handle_key") {
			continue // another sender has this handle: draw again
		}
		if err != nil {
			return "", fmt.Errorf("hotline id: %w", err)
		}
		return got, nil
	}
	return "", errors.New("hotline id: no free id after 8 draws")
}

// HotlineSender returns the number behind a hotline id on a channel, or
// klaxon.ErrNotFound.
func (s *Store) HotlineSender(ctx context.Context, channelID int64, handle string) (string, error) {
	var sender string
	err := s.pool.QueryRow(ctx, `SELECT sender FROM hotline_ids WHERE channel_id = $1 AND handle = $2`, channelID, handle).Scan(&sender)
	if err != nil {
		return "", fmt.Errorf("hotline sender: %w", notFound(err))
	}
	return sender, nil
}

func randomHandle(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = hotlineAlphabet[int(b[i])%len(hotlineAlphabet)]
	}
	return "@" + string(b)
}

// AdmitChannelRequest records channel request id from requester and says
// whether it may go ahead: at most limit admitted requests per requester
// within window. Asking again about the same id gives the same answer.
// Requests with no requester (the API) are always admitted.
func (s *Store) AdmitChannelRequest(ctx context.Context, id, requester, source string, limit int, window time.Duration) (bool, error) {
	var admitted bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if requester != "" {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "channel-request/"+requester); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `SELECT admitted FROM channel_requests WHERE id = $1`, id).Scan(&admitted)
		if err == nil || !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		admitted = true
		if requester != "" {
			var recent int
			if err := tx.QueryRow(ctx, `
				SELECT count(*) FROM channel_requests
				WHERE requester = $1 AND admitted AND created_at > now() - make_interval(secs => $2)`,
				requester, window.Seconds()).Scan(&recent); err != nil {
				return err
			}
			admitted = recent < limit
		}
		_, err = tx.Exec(ctx, `INSERT INTO channel_requests (id, requester, source, admitted) VALUES ($1, $2, $3, $4)`,
			id, requester, source, admitted)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("admit channel request: %w", err)
	}
	return admitted, nil
}

// Broadcast is one broadcast's progress, counted from the delivery log.
type Broadcast struct {
	ID         string    `json:"id"`
	Recipients int       `json:"recipients"`
	Done       bool      `json:"done"`
	Queued     int       `json:"queued"`
	Sent       int       `json:"sent"`
	Delivered  int       `json:"delivered"`
	Failed     int       `json:"failed"`
	CreatedAt  time.Time `json:"created_at"`
}

// StartBroadcast records a broadcast on a channel (once per id).
func (s *Store) StartBroadcast(ctx context.Context, id string, channelID int64) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO channel_broadcasts (id, channel_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, channelID)
	if err != nil {
		return fmt.Errorf("start broadcast: %w", err)
	}
	return nil
}

// FinishBroadcast records that every recipient of a broadcast was handed
// to the pipeline.
func (s *Store) FinishBroadcast(ctx context.Context, id string, recipients int) error {
	_, err := s.pool.Exec(ctx, `UPDATE channel_broadcasts SET recipients = $2, done = true WHERE id = $1`, id, recipients)
	if err != nil {
		return fmt.Errorf("finish broadcast: %w", err)
	}
	return nil
}

// Broadcasts returns the latest n broadcasts of a channel with their
// progress: queued (not yet accepted by the provider), sent (accepted),
// delivered (confirmed by the carrier) and failed (failed, undelivered,
// suppressed or canceled), counted from the messages whose ref is the
// broadcast's id.
func (s *Store) Broadcasts(ctx context.Context, channelID int64, n int) ([]Broadcast, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT b.id, b.recipients, b.done, b.created_at,
		       count(m.id) FILTER (WHERE m.provider_id IS NULL AND m.status_rank < 4),
		       count(m.id) FILTER (WHERE m.provider_id IS NOT NULL),
		       count(m.id) FILTER (WHERE m.status = 'delivered'),
		       count(m.id) FILTER (WHERE m.status IN ('failed', 'undelivered', 'suppressed', 'canceled'))
		FROM channel_broadcasts b LEFT JOIN messages m ON m.ref = b.id
		WHERE b.channel_id = $1
		GROUP BY b.id ORDER BY b.created_at DESC LIMIT $2`, channelID, n)
	if err != nil {
		return nil, fmt.Errorf("broadcasts: %w", err)
	}
	bs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Broadcast, error) {
		var b Broadcast
		err := r.Scan(&b.ID, &b.Recipients, &b.Done, &b.CreatedAt, &b.Queued, &b.Sent, &b.Delivered, &b.Failed)
		return b, err
	})
	if err != nil {
		return nil, fmt.Errorf("broadcasts: %w", err)
	}
	return bs, nil
}
