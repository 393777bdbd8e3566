package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
)

// DirectoryUser is a user synchronised from the directory, with the
// contact methods the directory vouches for, each written "type:address"
// in order.
type DirectoryUser struct {
	User
	Contacts []string
}

// DirectoryUsers returns every user that came from the directory, active or
// not, with their directory contact methods, in one query.
func (s *Store) DirectoryUsers(ctx context.Context) ([]DirectoryUser, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+userColumns+`,
		       coalesce((SELECT array_agg(c.type || ':' || c.address ORDER BY c.type, c.address)
		                 FROM contact_methods c WHERE c.user_id = users.id AND c.source = 'ldap'), '{}')
		FROM users WHERE source = 'ldap' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("directory users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DirectoryUser, error) {
		var u DirectoryUser
		err := r.Scan(&u.ID, &u.Handle, &u.Name, &u.Timezone, &u.Nick, &u.MatrixID, &u.IRCAccount,
			&u.Source, &u.LDAPDN, &u.Active, &u.DeactivatedAt, &u.CreatedAt, &u.Contacts)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("directory users: %w", err)
	}
	return out, nil
}

// DirectoryPerson is a person as the directory has them, normalised.
type DirectoryPerson struct {
	DN       string
	Handle   string
	Name     string
	Nick     string
	Timezone string
	// Phone (E.164) becomes a verified SMS and voice contact, Email a
	// verified email contact; empty ones are none.
	Phone string
	Email string
}

// Contacts are the directory contact methods the person should have,
// "type:address", in DirectoryUsers' order.
func (p DirectoryPerson) Contacts() []string {
	var out []string
	if p.Email != "" {
		out = append(out, string(klaxon.Email)+":"+p.Email)
	}
	if p.Phone != "" {
		out = append(out, string(klaxon.SMS)+":"+p.Phone, string(klaxon.Voice)+":"+p.Phone)
	}
	return out
}

// SaveDirectoryPerson creates (id 0) or updates the user id from the
// directory person p, active, and makes their directory contact methods
// exactly p's, verified: others from the directory are removed; ones the
// person added themselves are kept (and, when they are p's, verified and
// taken over by the directory). It is one implicit transaction, one round
// trip. A taken handle or nick is an EConflict error.
func (s *Store) SaveDirectoryPerson(ctx context.Context, id int64, p DirectoryPerson) error {
	b := &pgx.Batch{}
	if id == 0 {
		b.Queue(`
			INSERT INTO users (handle, name, timezone, nick, source, ldap_dn)
			VALUES ($1, $2, $3, $4, 'ldap', $5)`, p.Handle, p.Name, p.Timezone, p.Nick, p.DN)
	} else {
		b.Queue(`
			UPDATE users SET handle = $2, name = $3, timezone = $4, nick = $5, ldap_dn = $6,
			       active = true, deactivated_at = NULL
			WHERE id = $1 AND source = 'ldap'`, id, p.Handle, p.Name, p.Timezone, p.Nick, p.DN)
	}
	var types, addrs []string
	if p.Phone != "" {
		types, addrs = append(types, string(klaxon.SMS), string(klaxon.Voice)), append(addrs, p.Phone, p.Phone)
	}
	if p.Email != "" {
		types, addrs = append(types, string(klaxon.Email)), append(addrs, p.Email)
	}
	b.Queue(`
		DELETE FROM contact_methods c
		USING users u
		WHERE u.ldap_dn = $1 AND c.user_id = u.id AND c.source = 'ldap'
		  AND (c.type, c.address) NOT IN (SELECT * FROM unnest($2::text[], $3::text[]))`, p.DN, types, addrs)
	b.Queue(`
		INSERT INTO contact_methods (user_id, type, address, status, verified_at, source)
		SELECT u.id, d.type, d.address, 'verified', now(), 'ldap'
		FROM users u, unnest($2::text[], $3::text[]) AS d (type, address)
		WHERE u.ldap_dn = $1
		ON CONFLICT (user_id, type, address) DO UPDATE
		SET status = 'verified', verified_at = coalesce(contact_methods.verified_at, now()), source = 'ldap'`,
		p.DN, types, addrs)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("save directory person: %w", userConflict(err, User{Handle: p.Handle, Nick: p.Nick, LDAPDN: p.DN}))
	}
	return nil
}

// DeactivateDirectoryUsers deactivates the directory's users among ids
// that are active: paged no more, their history and contact methods kept.
// Users created through the API are never touched.
func (s *Store) DeactivateDirectoryUsers(ctx context.Context, ids []int64) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE users SET active = false, deactivated_at = now()
		WHERE id = ANY($1) AND source = 'ldap' AND active`, ids)
	if err != nil {
		return fmt.Errorf("deactivate directory users: %w", err)
	}
	return nil
}

// directoryLock is the advisory lock key that serialises synchronisations.
const directoryLock = 0x6b6c6478 // "kldx"

// LockDirectory waits until no other synchronisation runs (in any
// process), and holds that until unlock is called.
func (s *Store) LockDirectory(ctx context.Context) (unlock func(), err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, directoryLock); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock directory: %w", err)
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, err := conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, directoryLock); err != nil {
			// The session may still hold the lock: close it to free it.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}, nil
}
