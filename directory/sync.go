package directory

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/store"
)

// Syncer synchronises Klaxon's users with the directory.
type Syncer struct {
	Config Config
	Store  *store.Store
	Logger *slog.Logger
}

// Sync reads the directory and brings Klaxon's directory users in line with
// it: new entries are added, changed ones updated, returning ones
// reactivated, and people no longer in it deactivated. Entries or fields
// that cannot be taken are skipped and reported, never fatal. Only one
// synchronisation runs at a time across processes. A failure to read the
// directory is an *Error and changes nothing.
func (s *Syncer) Sync(ctx context.Context) (Report, error) {
	var r Report
	if s.Config.URL == "" {
		return r, ErrNotConfigured
	}
	unlock, err := s.Store.LockDirectory(ctx)
	if err != nil {
		return r, err
	}
	defer unlock()
	entries, err := Fetch(ctx, s.Config)
	if err != nil {
		return r, err
	}
	r.Entries = len(entries)
	current, err := s.Store.DirectoryUsers(ctx)
	if err != nil {
		return r, err
	}
	if len(entries) == 0 {
		active := 0
		for _, u := range current {
			if u.Active {
				active++
			}
		}
		if active > 0 {
			return r, &Error{Kind: KindEmpty, Message: fmt.Sprintf(
				"The directory search found nobody under %q with %s, so the %d people synchronised before were left active; check KLAXON_LDAP_BASE_DN and KLAXON_LDAP_FILTER.",
				s.Config.BaseDN, orDefault(s.Config.Filter, DefaultFilter), active)}
		}
	}

	byDN := make(map[string]*store.DirectoryUser, len(current))
	byHandle := make(map[string]*store.DirectoryUser, len(current))
	for i := range current {
		u := &current[i]
		byDN[strings.ToLower(u.LDAPDN)] = u
		byHandle[u.Handle] = u
	}
	seen := make(map[int64]bool, len(current))
	handles := make(map[string]string, len(entries)) // handle → DN that took it
	for _, e := range entries {
		p, skips, ok := person(e, s.Config)
		for _, sk := range skips {
			r.skip(sk)
		}
		cur := byDN[strings.ToLower(e.DN)]
		if !ok {
			if cur != nil {
				seen[cur.ID] = true // still in the directory: not deactivated
			}
			continue
		}
		if dn, taken := handles[p.Handle]; taken {
			r.skip(Skip{DN: e.DN, Handle: p.Handle, Reason: fmt.Sprintf("The handle %s already comes from %s.", p.Handle, dn)})
			if cur != nil {
				seen[cur.ID] = true
			}
			continue
		}
		handles[p.Handle] = e.DN
		if cur == nil {
			if u := byHandle[p.Handle]; u != nil && !seen[u.ID] {
				cur = u // the entry moved: same person, new DN
			}
		}
		if cur != nil {
			seen[cur.ID] = true
		}
		s.save(ctx, &r, cur, p)
		if err := ctx.Err(); err != nil {
			return r, fmt.Errorf("sync directory: %w", err)
		}
	}

	var gone []int64
	for _, u := range current {
		if !seen[u.ID] && u.Active {
			gone = append(gone, u.ID)
			r.deactivate(Change{Handle: u.Handle})
		}
	}
	if len(gone) > 0 {
		if err := s.Store.DeactivateDirectoryUsers(ctx, gone); err != nil {
			return r, err
		}
	}
	if s.Logger != nil {
		c := r.Counts
		s.Logger.InfoContext(ctx, "directory synchronised", "entries", r.Entries, "added", c.Added, "updated", c.Updated,
			"deactivated", c.Deactivated, "reactivated", c.Reactivated, "skipped", c.Skipped, "unchanged", c.Unchanged)
	}
	return r, nil
}

// save writes p when it is new or differs from cur, and notes what it did.
// A conflict (a handle or nick another user has) skips the entry.
func (s *Syncer) save(ctx context.Context, r *Report, cur *store.DirectoryUser, p store.DirectoryPerson) {
	var id int64
	var fields []string
	if cur != nil {
		id = cur.ID
		fields = differences(cur, p)
		if len(fields) == 0 && cur.Active {
			r.Counts.Unchanged++
			return
		}
	}
	if err := s.Store.SaveDirectoryPerson(ctx, id, p); err != nil {
		reason := "It could not be saved."
		if code := klaxon.ErrorCodeOf(err); code == klaxon.EConflict || code == klaxon.EInvalid {
			reason = klaxon.ErrorMessageOf(err)
			if code == klaxon.EConflict && strings.HasPrefix(reason, "The handle") {
				reason = fmt.Sprintf("The handle %q belongs to a user created through the API, whom the directory does not manage.", p.Handle)
			}
		} else if s.Logger != nil {
			s.Logger.ErrorContext(ctx, "save directory person", "dn", p.DN, "error", err)
		}
		r.skip(Skip{DN: p.DN, Handle: p.Handle, Reason: reason})
		return
	}
	switch {
	case cur == nil:
		r.add(Change{Handle: p.Handle})
	case !cur.Active:
		r.reactivate(Change{Handle: p.Handle, Fields: fields})
	default:
		r.update(Change{Handle: p.Handle, Fields: fields})
	}
}

// differences names the fields in which p differs from cur.
func differences(cur *store.DirectoryUser, p store.DirectoryPerson) []string {
	var out []string
	if cur.Handle != p.Handle {
		out = append(out, "handle")
	}
	if cur.Name != p.Name {
		out = append(out, "name")
	}
	if cur.Nick != p.Nick {
		out = append(out, "nick")
	}
	if cur.Timezone != p.Timezone {
		out = append(out, "timezone")
	}
	if cur.LDAPDN != p.DN {
		out = append(out, "dn")
	}
	want := p.Contacts()
	if !slices.Equal(cur.Contacts, want) {
		has := func(list []string, prefix string) string {
			for _, c := range list {
				if strings.HasPrefix(c, prefix) {
					return c
				}
			}
			return ""
		}
		if has(cur.Contacts, "sms:") != has(want, "sms:") || has(cur.Contacts, "voice:") != has(want, "voice:") {
			out = append(out, "mobile")
		}
		if has(cur.Contacts, "email:") != has(want, "email:") {
			out = append(out, "email")
		}
		if len(out) == 0 {
			out = append(out, "contacts")
		}
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
