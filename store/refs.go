package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/klaxonhq/klaxon"
)

// Kinds of claims: values handed to a workflow by reference.
const (
	ClaimNumber = "number"
	ClaimText   = "text"
	ClaimCode   = "code"
	// ClaimNumbers is a comma-separated list of numbers (a channel
	// request's admins).
	ClaimNumbers = "numbers"
)

// ClaimRef returns the reference of a claim, "claim:ID", which a workflow
// carries in place of the value.
func ClaimRef(id int64) string { return "claim:" + strconv.FormatInt(id, 10) }

// PutClaim stores a value a workflow will be handed by reference, and
// returns its reference.
func (s *Store) PutClaim(ctx context.Context, kind, value string) (string, error) {
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO claims (kind, value) VALUES ($1, $2) RETURNING id`, kind, value).Scan(&id); err != nil {
		return "", fmt.Errorf("put claim: %w", err)
	}
	return ClaimRef(id), nil
}

// TakeClaim returns the value behind a claim reference and deletes it: for
// values that must not outlive their one use (a typed code).
func (s *Store) TakeClaim(ctx context.Context, ref string) (string, error) {
	id, ok := strings.CutPrefix(ref, "claim:")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil {
		return "", klaxon.Errorf(klaxon.EInvalid, "%q is not a claim reference", ref)
	}
	var v string
	if err := s.pool.QueryRow(ctx, `DELETE FROM claims WHERE id = $1 RETURNING value`, n).Scan(&v); err != nil {
		return "", fmt.Errorf("take claim: %w", notFound(err))
	}
	return v, nil
}

// refQuery is the query behind each kind of reference (klaxon.Message
// lists them).
func refQuery(kind string) string {
	switch kind {
	case "contact":
		return `SELECT address FROM contact_methods WHERE id = $1::bigint`
	case "member":
		return `SELECT phone FROM channel_members WHERE id = $1::bigint`
	case "sender":
		return `SELECT from_number FROM inbound_events WHERE id = $1::bigint`
	case "text":
		return `SELECT body FROM inbound_events WHERE id = $1::bigint`
	case "claim":
		return `SELECT value FROM claims WHERE id = $1::bigint`
	case "challenge":
		return `SELECT address FROM challenges WHERE id = $1`
	default:
		return ""
	}
}

// ErrBadRef is returned for a reference of no known kind, or one whose
// value is gone (a contact deleted, a claim taken).
var ErrBadRef = errors.New("reference does not resolve")

// Resolve returns the value behind a reference: an address, a number or a
// text kept in Postgres.
func (s *Store) Resolve(ctx context.Context, ref string) (string, error) {
	vs, err := s.ResolveAll(ctx, []string{ref})
	if err != nil {
		return "", err
	}
	return vs[0], nil
}

// ResolveAll returns the values behind refs, in order, in one round trip.
func (s *Store) ResolveAll(ctx context.Context, refs []string) ([]string, error) {
	cols := make([]string, len(refs))
	args := make([]any, len(refs))
	for i, ref := range refs {
		kind, key, ok := strings.Cut(ref, ":")
		q := refQuery(kind)
		if !ok || q == "" || key == "" {
			return nil, fmt.Errorf("resolve %q: %w", ref, ErrBadRef)
		}
		if kind != "challenge" {
			if _, err := strconv.ParseInt(key, 10, 64); err != nil {
				return nil, fmt.Errorf("resolve %q: %w", ref, ErrBadRef)
			}
		}
		cols[i] = "(" + strings.Replace(q, "$1", "$"+strconv.Itoa(i+1), 1) + ")"
		args[i] = key
	}
	vals := make([]*string, len(refs))
	dst := make([]any, len(refs))
	for i := range vals {
		dst[i] = &vals[i]
	}
	if err := s.pool.QueryRow(ctx, "SELECT "+strings.Join(cols, ", "), args...).Scan(dst...); err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	out := make([]string, len(refs))
	for i, v := range vals {
		if v == nil {
			kind, _, _ := strings.Cut(refs[i], ":")
			return nil, fmt.Errorf("resolve %s: %w", kind, ErrBadRef)
		}
		out[i] = *v
	}
	return out, nil
}

var placeholder = regexp.MustCompile(`\{\{([a-z]+:[A-Za-z0-9/_.:-]+)\}\}`)

// Expand replaces every {{REF}} placeholder in text with the value behind
// it.
func (s *Store) Expand(ctx context.Context, text string) (string, error) {
	_, out, err := s.ResolveAndExpand(ctx, "", text)
	return out, err
}

// ResolveAndExpand returns the value behind ref (none when ref is empty)
// and text with its placeholders expanded, in one round trip: the
// delivery activity's claim check of one message.
func (s *Store) ResolveAndExpand(ctx context.Context, ref, text string) (string, string, error) {
	var refs []string
	if ref != "" {
		refs = append(refs, ref)
	}
	found := placeholder.FindAllStringSubmatch(text, -1)
	for _, m := range found {
		refs = append(refs, m[1])
	}
	if len(refs) == 0 {
		return "", text, nil
	}
	vals, err := s.ResolveAll(ctx, refs)
	if err != nil {
		return "", "", err
	}
	value := ""
	if ref != "" {
		value, vals = vals[0], vals[1:]
	}
	i := 0
	text = placeholder.ReplaceAllStringFunc(text, func(string) string {
		v := vals[i]
		i++
		return v
	})
	return value, text, nil
}

// QueuedMessage returns a message written before its delivery began (its
// record holds the recipient and the body), for the delivery activity.
func (s *Store) QueuedMessage(ctx context.Context, id string) (klaxon.Message, error) {
	m := klaxon.Message{ID: id}
	var prio int
	err := s.pool.QueryRow(ctx, `
		SELECT medium, sender, recipient, subject, body, thread_key, priority, purpose, ref
		FROM messages WHERE id = $1`, id).Scan(&m.Medium, &m.From, &m.To, &m.Subject, &m.Body, &m.ThreadKey, &prio, &m.Purpose, &m.Ref)
	if err != nil {
		return m, fmt.Errorf("queued message: %w", notFound(err))
	}
	m.Priority = klaxon.Priority(prio)
	return m, nil
}

// QueueMessage writes a message before its delivery begins, so that a
// workflow carries only its envelope (klaxon.Message.Envelope). Written
// again before any attempt (a retried activity that made a new code), it
// takes the new recipient and body.
func (s *Store) QueueMessage(ctx context.Context, m klaxon.Message) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO messages (id, medium, sender, recipient, subject, body, thread_key, priority, purpose, ref)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO UPDATE SET recipient = EXCLUDED.recipient, subject = EXCLUDED.subject, body = EXCLUDED.body
		WHERE messages.provider_id IS NULL AND messages.status = 'queued'
		  AND NOT EXISTS (SELECT 1 FROM delivery_attempts WHERE message_id = $1)`,
		m.ID, m.Medium, m.From, m.To, m.Subject, m.Body, m.ThreadKey, int(m.Priority), m.Purpose, m.Ref)
	if err != nil {
		return fmt.Errorf("queue message: %w", err)
	}
	return nil
}

// DropClaim deletes a claim, if it is still there.
func (s *Store) DropClaim(ctx context.Context, ref string) error {
	id, ok := strings.CutPrefix(ref, "claim:")
	n, err := strconv.ParseInt(id, 10, 64)
	if !ok || err != nil {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM claims WHERE id = $1`, n); err != nil {
		return fmt.Errorf("drop claim: %w", err)
	}
	return nil
}
