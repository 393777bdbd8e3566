package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MatrixNextBatch returns the sync position stored for a Matrix account,
// or "" when it has never synced.
func (s *Store) MatrixNextBatch(ctx context.Context, account string) (string, error) {
	var next string
	err := s.pool.QueryRow(ctx, `SELECT next_batch FROM matrix_sync WHERE account = $1`, account).Scan(&next)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("matrix next batch: %w", err)
	}
	return next, nil
}

// MatrixRoomMarks returns, per room, the newest event a Matrix account had
// seen at its stored sync position: where paging back through a gap stops.
func (s *Store) MatrixRoomMarks(ctx context.Context, account string) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT room_id, last_event FROM matrix_room_marks WHERE account = $1`, account)
	if err != nil {
		return nil, fmt.Errorf("matrix room marks: %w", err)
	}
	defer rows.Close()
	marks := make(map[string]string)
	for rows.Next() {
		var room, last string
		if err := rows.Scan(&room, &last); err != nil {
			return nil, fmt.Errorf("matrix room marks: %w", err)
		}
		marks[room] = last
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("matrix room marks: %w", err)
	}
	return marks, nil
}

// SetMatrixPosition stores, in one transaction, the sync position a Matrix
// account has handled everything before and the newest event it has seen
// in each room whose mark moved (room id → event id).
func (s *Store) SetMatrixPosition(ctx context.Context, account, next string, marks map[string]string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
INSERT INTO matrix_sync (account, next_batch) VALUES ($1, $2)
ON CONFLICT (account) DO UPDATE SET next_batch = EXCLUDED.next_batch, updated_at = now()`, account, next); err != nil {
			return err
		}
		for room, last := range marks {
			if _, err := tx.Exec(ctx, `
INSERT INTO matrix_room_marks (account, room_id, last_event) VALUES ($1, $2, $3)
ON CONFLICT (account, room_id) DO UPDATE SET last_event = EXCLUDED.last_event, updated_at = now()`, account, room, last); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set matrix position: %w", err)
	}
	return nil
}

// MatrixPage is a page's one message in a Matrix room.
type MatrixPage struct {
	PageID  int64
	RoomID  string
	EventID string
}

// SetMatrixPage records a page's message; a page keeps its first one.
func (s *Store) SetMatrixPage(ctx context.Context, p MatrixPage) error {
	_, err := s.pool.Exec(ctx, `
INSERT INTO matrix_pages (page_id, room_id, event_id) VALUES ($1, $2, $3)
ON CONFLICT (page_id) DO NOTHING`, p.PageID, p.RoomID, p.EventID)
	if err != nil {
		return fmt.Errorf("set matrix page: %w", err)
	}
	return nil
}

// MatrixPageByPage returns a page's message, or klaxon.ErrNotFound.
func (s *Store) MatrixPageByPage(ctx context.Context, pageID int64) (MatrixPage, error) {
	p := MatrixPage{PageID: pageID}
	err := s.pool.QueryRow(ctx, `SELECT room_id, event_id FROM matrix_pages WHERE page_id = $1`, pageID).Scan(&p.RoomID, &p.EventID)
	if err != nil {
		return p, fmt.Errorf("matrix page: %w", notFound(err))
	}
	return p, nil
}

// MatrixPageByEvent returns the page whose message is eventID, or
// klaxon.ErrNotFound.
func (s *Store) MatrixPageByEvent(ctx context.Context, eventID string) (MatrixPage, error) {
	p := MatrixPage{EventID: eventID}
	err := s.pool.QueryRow(ctx, `SELECT page_id, room_id FROM matrix_pages WHERE event_id = $1`, eventID).Scan(&p.PageID, &p.RoomID)
	if err != nil {
		return p, fmt.Errorf("matrix page by event: %w", notFound(err))
	}
	return p, nil
}

// MatrixThread returns the root of the conversation key's thread in a room
// when its last message is no older than since, or "" when a new thread
// should start.
func (s *Store) MatrixThread(ctx context.Context, roomID, key string, since time.Time) (string, error) {
	var root string
	err := s.pool.QueryRow(ctx, `SELECT root_event FROM matrix_threads WHERE room_id = $1 AND key = $2 AND last_at >= $3`,
		roomID, key, since).Scan(&root)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("matrix thread: %w", err)
	}
	return root, nil
}

// TouchMatrixThread records that the conversation key's thread in a room,
// rooted at root, had a message at at.
func (s *Store) TouchMatrixThread(ctx context.Context, roomID, key, root string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `
INSERT INTO matrix_threads (room_id, key, root_event, last_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (room_id, key) DO UPDATE SET root_event = EXCLUDED.root_event, last_at = EXCLUDED.last_at`,
		roomID, key, root, at)
	if err != nil {
		return fmt.Errorf("touch matrix thread: %w", err)
	}
	return nil
}

// MatrixDirectRoom returns the private room the bot shares with a Matrix
// user, or klaxon.ErrNotFound.
func (s *Store) MatrixDirectRoom(ctx context.Context, userID string) (string, error) {
	var room string
	err := s.pool.QueryRow(ctx, `SELECT room_id FROM matrix_direct_rooms WHERE user_id = $1`, userID).Scan(&room)
	if err != nil {
		return "", fmt.Errorf("matrix direct room: %w", notFound(err))
	}
	return room, nil
}

// SetMatrixDirectRoom records the private room the bot shares with a user.
func (s *Store) SetMatrixDirectRoom(ctx context.Context, userID, roomID string) error {
	_, err := s.pool.Exec(ctx, `
INSERT INTO matrix_direct_rooms (user_id, room_id) VALUES ($1, $2)
ON CONFLICT (user_id) DO UPDATE SET room_id = EXCLUDED.room_id`, userID, roomID)
	if err != nil {
		return fmt.Errorf("set matrix direct room: %w", err)
	}
	return nil
}
