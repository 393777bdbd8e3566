package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/oncall"
)

// DefaultReminder is how long before a shift its incoming person is
// reminded, unless the rotation says otherwise.
const DefaultReminder = time.Hour

// MaxReminder bounds a rotation's reminder: a week.
const MaxReminder = 7 * 24 * time.Hour

// Rotation is an on-call rotation as stored. Who is on call is not in it:
// Schedule turns it into an oncall.Rotation that computes that.
type Rotation struct {
	ID         int64
	Name       string
	Timezone   string
	ShiftHours int
	// HandoffOrigin is the local wall-clock start of shift 0 (its UTC
	// fields are the wall-clock fields).
	HandoffOrigin time.Time
	Start         time.Time
	// Reminder is how long before a shift its incoming person is reminded;
	// zero is off.
	Reminder    time.Duration
	Members     []RotationMember
	AnchorUser  string // a member's handle
	AnchorShift int64
	// Version changes with every edit of the rotation or its overrides.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RotationMember is one member of a rotation.
type RotationMember struct {
	UserID int64  `json:"-"`
	Handle string `json:"handle"`
	Name   string `json:"name"`
}

// Handles returns the members' handles, in order.
func (r Rotation) Handles() []string {
	hs := make([]string, len(r.Members))
	for i, m := range r.Members {
		hs[i] = m.Handle
	}
	return hs
}

// RotationOverride is a cover: User is on call for the rotation over
// [Start, End).
type RotationOverride struct {
	ID        int64     `json:"id"`
	Rotation  string    `json:"rotation"`
	UserID    int64     `json:"-"`
	User      string    `json:"user"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	CreatedAt time.Time `json:"created_at"`
}

// Schedule returns the rotation's oncall schedule with the given
// overrides (sorted by start, as the store returns them).
func (r Rotation) Schedule(overrides []RotationOverride) (*oncall.Rotation, error) {
	loc, err := oncall.LoadLocation(r.Timezone)
	if err != nil {
		return nil, fmt.Errorf("rotation %s: %w", r.Name, err)
	}
	s := &oncall.Rotation{
		Location:   loc,
		ShiftHours: r.ShiftHours,
		Origin:     r.HandoffOrigin,
		Start:      r.Start,
		Members:    r.Handles(),
		Anchor:     oncall.Anchor{Member: r.AnchorUser, Shift: r.AnchorShift},
		Overrides:  make([]oncall.Override, len(overrides)),
	}
	for i, o := range overrides {
		s.Overrides[i] = oncall.Override{ID: o.ID, User: o.User, Start: o.Start, End: o.End}
	}
	return s, nil
}

// rotationName is the grammar of rotation names, the same as page targets'
// ("rotation:NAME"), minus a trailing ".ics", which the calendar route uses.
var rotationName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// CheckRotationName refuses a name that cannot be a rotation's.
func CheckRotationName(name string) error {
	if name == "" {
		return klaxon.Errorf(klaxon.EInvalid, `A rotation needs a name, e.g. "ops".`)
	}
	if !rotationName.MatchString(name) || strings.HasSuffix(name, ".ics") {
		return klaxon.Errorf(klaxon.EInvalid, "%q is not a valid rotation name: use lowercase letters, digits, '.', '_' and '-' (up to 64), not ending in \".ics\".", clip(name, 70))
	}
	return nil
}

// NewRotation is a rotation to create.
type NewRotation struct {
	Name string
	// Spec is the schedule; its Members are handles of existing users.
	Spec oncall.Spec
	// Reminder is how long before a shift its incoming person is reminded;
	// zero is off.
	Reminder time.Duration
}

func checkReminder(d time.Duration) error {
	if d < 0 || d > MaxReminder {
		return klaxon.Errorf(klaxon.EInvalid, "The reminder must be between 0 (off) and 7 days before a shift.")
	}
	if d%time.Minute != 0 {
		return klaxon.Errorf(klaxon.EInvalid, "The reminder must be a whole number of minutes.")
	}
	return nil
}

// CreateRotation creates a rotation and its members in one transaction:
// either all of it is written or nothing is. Unknown members are an
// EInvalid error naming them; a taken name is EConflict.
func (s *Store) CreateRotation(ctx context.Context, nr NewRotation) (Rotation, error) {
	if err := CheckRotationName(nr.Name); err != nil {
		return Rotation{}, err
	}
	if err := checkReminder(nr.Reminder); err != nil {
		return Rotation{}, err
	}
	sched, err := oncall.New(nr.Spec)
	if err != nil {
		return Rotation{}, err
	}
	var id int64
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		users, err := usersByHandles(ctx, tx, sched.Members)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO rotations (name, timezone, shift_hours, handoff_origin, start_at, reminder_seconds, anchor_user_id, anchor_shift)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			nr.Name, nr.Spec.Timezone, sched.ShiftHours, sched.Origin, sched.Start, int(nr.Reminder/time.Second),
			users[0].UserID, sched.Anchor.Shift).Scan(&id)
		if isUniqueViolation(err, "rotations_name_key") {
			return klaxon.Errorf(klaxon.EConflict, "A rotation named %q already exists.", nr.Name)
		}
		if err != nil {
			return err
		}
		return insertMembers(ctx, tx, id, users)
	})
	if err != nil {
		return Rotation{}, fmt.Errorf("create rotation: %w", err)
	}
	return s.Rotation(ctx, nr.Name)
}

// usersByHandles returns the users with these handles, in the same order,
// or an EInvalid error naming every unknown handle.
func usersByHandles(ctx context.Context, q pgx.Tx, handles []string) ([]RotationMember, error) {
	rows, err := q.Query(ctx, `SELECT id, handle, name FROM users WHERE handle = ANY($1)`, handles)
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RotationMember, error) {
		var m RotationMember
		err := r.Scan(&m.UserID, &m.Handle, &m.Name)
		return m, err
	})
	if err != nil {
		return nil, err
	}
	byHandle := make(map[string]RotationMember, len(found))
	for _, m := range found {
		byHandle[m.Handle] = m
	}
	out := make([]RotationMember, 0, len(handles))
	var unknown []string
	for _, h := range handles {
		m, ok := byHandle[h]
		if !ok {
			unknown = append(unknown, fmt.Sprintf("%q", clip(h, 40)))
			continue
		}
		out = append(out, m)
	}
	switch len(unknown) {
	case 0:
		return out, nil
	case 1:
		return nil, klaxon.Errorf(klaxon.EInvalid, "There is no user with the handle %s.", unknown[0])
	default:
		return nil, klaxon.Errorf(klaxon.EInvalid, "There are no users with the handles %s.", strings.Join(unknown, ", "))
	}
}

func insertMembers(ctx context.Context, tx pgx.Tx, rotationID int64, members []RotationMember) error {
	ids := make([]int64, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO rotation_members (rotation_id, position, user_id)
		SELECT $1, ord - 1, user_id FROM unnest($2::bigint[]) WITH ORDINALITY AS m (user_id, ord)`, rotationID, ids)
	return err
}

const rotationColumns = `
	r.id, r.name, r.timezone, r.shift_hours, r.handoff_origin, r.start_at, r.reminder_seconds,
	au.handle, r.anchor_shift, r.version, r.created_at, r.updated_at,
	array_agg(u.id ORDER BY m.position), array_agg(u.handle ORDER BY m.position), array_agg(u.name ORDER BY m.position)`

const rotationFrom = `
	FROM rotations r
	JOIN users au ON au.id = r.anchor_user_id
	JOIN rotation_members m ON m.rotation_id = r.id
	JOIN users u ON u.id = m.user_id`

func scanRotation(row pgx.Row) (Rotation, error) {
	var r Rotation
	var reminder int
	var ids []int64
	var handles, names []string
	err := row.Scan(&r.ID, &r.Name, &r.Timezone, &r.ShiftHours, &r.HandoffOrigin, &r.Start, &reminder,
		&r.AnchorUser, &r.AnchorShift, &r.Version, &r.CreatedAt, &r.UpdatedAt, &ids, &handles, &names)
	if err != nil {
		return r, err
	}
	r.HandoffOrigin = time.Date(r.HandoffOrigin.Year(), r.HandoffOrigin.Month(), r.HandoffOrigin.Day(),
		r.HandoffOrigin.Hour(), r.HandoffOrigin.Minute(), r.HandoffOrigin.Second(), 0, time.UTC)
	r.Reminder = time.Duration(reminder) * time.Second
	r.Members = make([]RotationMember, len(ids))
	for i := range ids {
		r.Members[i] = RotationMember{UserID: ids[i], Handle: handles[i], Name: names[i]}
	}
	return r, nil
}

// notFoundRotation is the error for an unknown rotation name.
func notFoundRotation(name string) error {
	return &klaxon.Error{Code: klaxon.ENotFound, Message: fmt.Sprintf("There is no rotation named %q.", clip(name, 70))}
}

// Rotation returns the rotation called name, with its members in order.
func (s *Store) Rotation(ctx context.Context, name string) (Rotation, error) {
	r, err := scanRotation(s.pool.QueryRow(ctx, `SELECT `+rotationColumns+rotationFrom+`
		WHERE r.name = $1 GROUP BY r.id, au.handle`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, notFoundRotation(name)
	}
	if err != nil {
		return r, fmt.Errorf("rotation: %w", err)
	}
	return r, nil
}

// Rotations returns every rotation, by name.
func (s *Store) Rotations(ctx context.Context) ([]Rotation, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+rotationColumns+rotationFrom+`
		GROUP BY r.id, au.handle ORDER BY r.name`)
	if err != nil {
		return nil, fmt.Errorf("rotations: %w", err)
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Rotation, error) { return scanRotation(r) })
	if err != nil {
		return nil, fmt.Errorf("rotations: %w", err)
	}
	return rs, nil
}

// RotationSchedule is a rotation with the overrides that matter from some
// instant on, and the schedule computed from both.
type RotationSchedule struct {
	Rotation  Rotation
	Overrides []RotationOverride
	Schedule  *oncall.Rotation
}

// UserID returns the user id of handle, a member or a cover, or 0.
func (rs RotationSchedule) UserID(handle string) int64 {
	for _, m := range rs.Rotation.Members {
		if m.Handle == handle {
			return m.UserID
		}
	}
	for _, o := range rs.Overrides {
		if o.User == handle {
			return o.UserID
		}
	}
	return 0
}

// OnCall returns who is on call at instant at.
func (rs RotationSchedule) OnCall(at time.Time) OnCall {
	oc := rs.Schedule.At(at)
	return OnCall{
		Rotation: rs.Rotation.Name, User: oc.User, UserID: rs.UserID(oc.User), Until: oc.Until,
		ScheduledUser: oc.Scheduled, OverrideID: oc.Override, ShiftStart: oc.ShiftStart, ShiftEnd: oc.ShiftEnd,
	}
}

// RotationSchedule returns the rotation called name with every override
// that ends after from, and its schedule: enough to say who is on call at
// any instant from then on. It reads both in one round trip.
func (s *Store) RotationSchedule(ctx context.Context, name string, from time.Time) (RotationSchedule, error) {
	var rs RotationSchedule
	var rerr error
	b := &pgx.Batch{}
	b.Queue(`SELECT `+rotationColumns+rotationFrom+` WHERE r.name = $1 GROUP BY r.id, au.handle`, name).
		QueryRow(func(row pgx.Row) error {
			rs.Rotation, rerr = scanRotation(row)
			return nil
		})
	b.Queue(overridesQuery+` WHERE r.name = $1 AND o.end_at > $2 ORDER BY o.start_at`, name, from).
		Query(func(rows pgx.Rows) error {
			var err error
			rs.Overrides, err = pgx.CollectRows(rows, scanOverride)
			return err
		})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return rs, fmt.Errorf("rotation schedule: %w", err)
	}
	if errors.Is(rerr, pgx.ErrNoRows) {
		return rs, notFoundRotation(name)
	}
	if rerr != nil {
		return rs, fmt.Errorf("rotation schedule: %w", rerr)
	}
	sched, err := rs.Rotation.Schedule(rs.Overrides)
	if err != nil {
		return rs, err
	}
	rs.Schedule = sched
	return rs, nil
}

// OnCall is who is on call for a rotation at one instant.
type OnCall struct {
	Rotation string
	// User is the handle of who is on call, after overrides; empty when
	// nobody is (the rotation has not started).
	User   string
	UserID int64
	// Until is when the next person takes over; zero when nobody will (a
	// one-member rotation with no override ahead).
	Until time.Time
	// ScheduledUser is who would be on call without overrides.
	ScheduledUser string
	// OverrideID is the override in force, or 0.
	OverrideID int64
	// ShiftStart and ShiftEnd bound the scheduled shift (zero before the
	// start; ShiftEnd is zero for a one-member rotation).
	ShiftStart time.Time
	ShiftEnd   time.Time
}

// OnCall returns who is on call for the rotation called name at instant at:
// computed from the rotation and its overrides, never stored. A page to
// "rotation:NAME" pages OnCall(ctx, NAME, now).User when its step fires.
// An unknown rotation is an ENotFound error; nobody on call (before the
// rotation starts) is an empty User, not an error.
func (s *Store) OnCall(ctx context.Context, rotation string, at time.Time) (OnCall, error) {
	rs, err := s.RotationSchedule(ctx, rotation, at)
	if err != nil {
		return OnCall{}, err
	}
	return rs.OnCall(at), nil
}

// SetRotationMembers replaces the rotation's member list (which may add,
// remove and reorder members) without changing who is on call at instant
// now: the anchor moves to that person. When the person on call is removed,
// the next remaining member in the old order takes over at once.
func (s *Store) SetRotationMembers(ctx context.Context, name string, handles []string, now time.Time) (Rotation, error) {
	return s.EditRotationMembers(ctx, name, now, func([]string) ([]string, error) { return handles, nil })
}

// EditRotationMembers changes the rotation's member list with edit, which
// gets the current handles in order and returns the new list, under a lock
// on the rotation so concurrent edits do not lose each other. See
// SetRotationMembers.
func (s *Store) EditRotationMembers(ctx context.Context, name string, now time.Time, edit func(current []string) ([]string, error)) (Rotation, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockRotation(ctx, tx, name)
		if err != nil {
			return err
		}
		handles, err := edit(r.Handles())
		if err != nil {
			return err
		}
		sched, err := r.Schedule(nil)
		if err != nil {
			return err
		}
		anchor, err := sched.Rebase(now, handles)
		if err != nil {
			return err
		}
		users, err := usersByHandles(ctx, tx, handles)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM rotation_members WHERE rotation_id = $1`, r.ID); err != nil {
			return err
		}
		if err := insertMembers(ctx, tx, r.ID, users); err != nil {
			return err
		}
		var anchorID int64
		for _, u := range users {
			if u.Handle == anchor.Member {
				anchorID = u.UserID
			}
		}
		_, err = tx.Exec(ctx, `
			UPDATE rotations SET anchor_user_id = $2, anchor_shift = $3, version = version + 1, updated_at = now()
			WHERE id = $1`, r.ID, anchorID, anchor.Shift)
		return err
	})
	if err != nil {
		return Rotation{}, fmt.Errorf("edit rotation members: %w", err)
	}
	return s.Rotation(ctx, name)
}

// lockRotation reads the rotation called name and locks its row until the
// transaction ends, serialising edits of it and of its overrides.
func lockRotation(ctx context.Context, tx pgx.Tx, name string) (Rotation, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM rotations WHERE name = $1 FOR UPDATE`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Rotation{}, notFoundRotation(name)
	}
	if err != nil {
		return Rotation{}, err
	}
	return scanRotation(tx.QueryRow(ctx, `SELECT `+rotationColumns+rotationFrom+` WHERE r.id = $1 GROUP BY r.id, au.handle`, id))
}

// RotationSettings are the settings of a rotation that can change without
// touching its schedule. Nil fields are left alone.
type RotationSettings struct {
	Reminder *time.Duration
}

// UpdateRotation changes a rotation's settings.
func (s *Store) UpdateRotation(ctx context.Context, name string, set RotationSettings) (Rotation, error) {
	if set.Reminder != nil {
		if err := checkReminder(*set.Reminder); err != nil {
			return Rotation{}, err
		}
		tag, err := s.pool.Exec(ctx, `
			UPDATE rotations SET reminder_seconds = $2, version = version + 1, updated_at = now() WHERE name = $1`,
			name, int(*set.Reminder/time.Second))
		if err != nil {
			return Rotation{}, fmt.Errorf("update rotation: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return Rotation{}, notFoundRotation(name)
		}
	}
	return s.Rotation(ctx, name)
}

// DeleteRotation deletes a rotation with its members and overrides.
func (s *Store) DeleteRotation(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM rotations WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("delete rotation: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return notFoundRotation(name)
	}
	return nil
}

const overridesQuery = `
	SELECT o.id, r.name, o.user_id, u.handle, o.start_at, o.end_at, o.created_at
	FROM rotation_overrides o
	JOIN rotations r ON r.id = o.rotation_id
	JOIN users u ON u.id = o.user_id`

func scanOverride(row pgx.CollectableRow) (RotationOverride, error) {
	var o RotationOverride
	err := row.Scan(&o.ID, &o.Rotation, &o.UserID, &o.User, &o.Start, &o.End, &o.CreatedAt)
	return o, err
}

// NewOverride is a cover to add: User (a handle) covers the rotation from
// Start to End.
type NewOverride struct {
	User  string
	Start time.Time
	End   time.Time
}

// AddOverride adds a cover to the rotation called name. It refuses an
// override that ends before it starts or is already over at instant now
// (EInvalid), an unknown user (EInvalid), and one that overlaps another
// override of the rotation (EConflict, naming it).
func (s *Store) AddOverride(ctx context.Context, name string, no NewOverride, now time.Time) (RotationOverride, error) {
	no.Start, no.End = no.Start.Truncate(time.Second), no.End.Truncate(time.Second)
	switch {
	case no.Start.IsZero() || no.End.IsZero():
		return RotationOverride{}, klaxon.Errorf(klaxon.EInvalid, "An override needs a start and an end.")
	case !no.End.After(no.Start):
		return RotationOverride{}, klaxon.Errorf(klaxon.EInvalid, "The override must end after it starts (it starts %s and ends %s).",
			no.Start.UTC().Format(time.RFC3339), no.End.UTC().Format(time.RFC3339))
	case !no.End.After(now):
		return RotationOverride{}, klaxon.Errorf(klaxon.EInvalid, "The override ends in the past (%s); there is nothing left to cover.", no.End.UTC().Format(time.RFC3339))
	case no.End.Sub(no.Start) > 366*24*time.Hour:
		return RotationOverride{}, klaxon.Errorf(klaxon.EInvalid, "An override can last at most a year; change the rotation's members instead.")
	}
	var o RotationOverride
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockRotation(ctx, tx, name)
		if err != nil {
			return err
		}
		users, err := usersByHandles(ctx, tx, []string{no.User})
		if err != nil {
			return err
		}
		// Say which override is in the way; the exclusion constraint is the
		// backstop.
		rows, err := tx.Query(ctx, overridesQuery+`
			WHERE o.rotation_id = $1 AND tstzrange(o.start_at, o.end_at) && tstzrange($2, $3) ORDER BY o.start_at LIMIT 1`,
			r.ID, no.Start, no.End)
		if err != nil {
			return err
		}
		clash, err := pgx.CollectRows(rows, scanOverride)
		if err != nil {
			return err
		}
		if len(clash) > 0 {
			return overlapError(clash[0], r.Timezone)
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO rotation_overrides (rotation_id, user_id, start_at, end_at) VALUES ($1, $2, $3, $4)
			RETURNING id, created_at`, r.ID, users[0].UserID, no.Start, no.End).Scan(&o.ID, &o.CreatedAt)
		if isExclusionViolation(err) {
			return klaxon.Errorf(klaxon.EConflict, "The override overlaps another override of %s.", name)
		}
		if err != nil {
			return err
		}
		o.Rotation, o.UserID, o.User, o.Start, o.End = r.Name, users[0].UserID, users[0].Handle, no.Start, no.End
		_, err = tx.Exec(ctx, `UPDATE rotations SET version = version + 1, updated_at = now() WHERE id = $1`, r.ID)
		return err
	})
	if err != nil {
		return o, fmt.Errorf("add override: %w", err)
	}
	return o, nil
}

func overlapError(o RotationOverride, tz string) error {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	const layout = "Mon 2 Jan 15:04 MST"
	return klaxon.Errorf(klaxon.EConflict, "The override overlaps override %d (%s covers from %s to %s); remove that one first or choose other times.",
		o.ID, o.User, o.Start.In(loc).Format(layout), o.End.In(loc).Format(layout))
}

func isExclusionViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23P01"
}

// Overrides returns the rotation's overrides that end after from, by start.
// A zero from returns all of them.
func (s *Store) Overrides(ctx context.Context, name string, from time.Time) ([]RotationOverride, error) {
	if _, err := s.rotationID(ctx, name); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, overridesQuery+` WHERE r.name = $1 AND o.end_at > $2 ORDER BY o.start_at`, name, from)
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	ovs, err := pgx.CollectRows(rows, scanOverride)
	if err != nil {
		return nil, fmt.Errorf("overrides: %w", err)
	}
	return ovs, nil
}

// DeleteOverride removes override id from the rotation called name.
func (s *Store) DeleteOverride(ctx context.Context, name string, id int64) (RotationOverride, error) {
	var o RotationOverride
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		r, err := lockRotation(ctx, tx, name)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
			WITH d AS (DELETE FROM rotation_overrides WHERE id = $1 AND rotation_id = $2 RETURNING *)
			SELECT d.id, $3::text, d.user_id, u.handle, d.start_at, d.end_at, d.created_at FROM d JOIN users u ON u.id = d.user_id`,
			id, r.ID, r.Name)
		if err != nil {
			return err
		}
		got, err := pgx.CollectRows(rows, scanOverride)
		if err != nil {
			return err
		}
		if len(got) == 0 {
			return &klaxon.Error{Code: klaxon.ENotFound, Message: fmt.Sprintf("Rotation %s has no override %d.", r.Name, id)}
		}
		o = got[0]
		_, err = tx.Exec(ctx, `UPDATE rotations SET version = version + 1, updated_at = now() WHERE id = $1`, r.ID)
		return err
	})
	if err != nil {
		return o, fmt.Errorf("delete override: %w", err)
	}
	return o, nil
}

func (s *Store) rotationID(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `SELECT id FROM rotations WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, notFoundRotation(name)
	}
	if err != nil {
		return 0, fmt.Errorf("rotation: %w", err)
	}
	return id, nil
}

// Unreachable returns, of the given handles, those whose users are
// deactivated or have no verified contact method: Klaxon can neither page
// them nor tell them about their shifts. The order of handles is kept.
func (s *Store) Unreachable(ctx context.Context, handles []string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT u.handle FROM users u
		WHERE u.handle = ANY($1)
		  AND (NOT u.active OR NOT EXISTS (SELECT 1 FROM contact_methods c WHERE c.user_id = u.id AND c.status = 'verified'))`, handles)
	if err != nil {
		return nil, fmt.Errorf("unreachable users: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("unreachable users: %w", err)
	}
	out := make([]string, 0, len(found))
	for _, h := range handles {
		if slices.Contains(found, h) {
			out = append(out, h)
		}
	}
	return out, nil
}
