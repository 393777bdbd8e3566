// Package directory synchronises Klaxon's people with the organisation's
// LDAP directory: each entry the filter selects becomes (or updates) a user
// whose mobile is a verified SMS and voice contact and whose mail is a
// verified email contact, and a person removed from the directory is
// deactivated — paged no more, history kept — and reactivated on return.
// Users created through the API are never touched.
package directory

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Config is how to reach the directory and read people from it.
type Config struct {
	// URL is ldap://host:port or ldaps://host:port.
	URL string
	// BindDN and BindPassword are the credentials; both empty binds
	// anonymously.
	BindDN       string
	BindPassword string
	// BaseDN is where people are searched for.
	BaseDN string
	// Filter selects the entries that are people.
	Filter string
	// Mapping says which attribute fills which field.
	Mapping Mapping
	// DefaultTimezone is the timezone of people whose entry names none.
	DefaultTimezone string
	// Region is the region of numbers written without a country code.
	Region string
	// PageSize is how many entries one page of the search asks for; the
	// server may cap it lower. Zero is DefaultPageSize.
	PageSize uint32
	// Timeout bounds connecting and each request. Zero is DefaultTimeout.
	Timeout time.Duration
}

// Defaults of the directory's configuration.
const (
	DefaultFilter   = "(objectClass=inetOrgPerson)"
	DefaultMapping  = "handle=uid,name=cn,nick=uid,mobile=mobile,email=mail,timezone="
	DefaultPageSize = 500
	DefaultTimeout  = 15 * time.Second
)

// Mapping names the LDAP attribute of each field of a person; an empty one
// is not read.
type Mapping struct {
	Handle   string
	Name     string
	Nick     string
	Mobile   string
	Email    string
	Timezone string
}

// ParseMapping reads "field=attribute,..." (fields: handle, name, nick,
// mobile, email, timezone). Fields left out keep their default mapping;
// "field=" turns one off. The handle cannot be turned off.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{Handle: "uid", Name: "cn", Nick: "uid", Mobile: "mobile", Email: "mail"}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		field, attr, ok := strings.Cut(part, "=")
		if !ok {
			return m, fmt.Errorf("%q is not field=attribute", part)
		}
		attr = strings.TrimSpace(attr)
		if attr != "" && !validAttribute(attr) {
			return m, fmt.Errorf("%q is not an LDAP attribute name", attr)
		}
		switch strings.ToLower(strings.TrimSpace(field)) {
		case "handle":
			m.Handle = attr
		case "name":
			m.Name = attr
		case "nick":
			m.Nick = attr
		case "mobile":
			m.Mobile = attr
		case "email":
			m.Email = attr
		case "timezone":
			m.Timezone = attr
		default:
			return m, fmt.Errorf("unknown field %q: use handle, name, nick, mobile, email or timezone", field)
		}
	}
	if m.Handle == "" {
		return m, fmt.Errorf("the handle must come from an attribute (handle=uid, say)")
	}
	return m, nil
}

// validAttribute reports whether s can be an attribute description: a
// name (letters, digits, '-') or an OID.
func validAttribute(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case (r >= '0' && r <= '9') || r == '-' || r == '.' || r == ';':
			if i == 0 && r == '-' {
				return false
			}
		default:
			return false
		}
	}
	return s != ""
}

// attributes returns the distinct attributes the mapping reads.
func (m Mapping) attributes() []string {
	var out []string
	for _, a := range []string{m.Handle, m.Name, m.Nick, m.Mobile, m.Email, m.Timezone} {
		if a == "" {
			continue
		}
		dup := false
		for _, o := range out {
			if strings.EqualFold(o, a) {
				dup = true
			}
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out
}

// CheckURL refuses a directory URL that is not ldap:// or ldaps://.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "ldap" && u.Scheme != "ldaps") || u.Host == "" {
		return fmt.Errorf("%q is not an ldap:// or ldaps:// URL", raw)
	}
	return nil
}

// Report is what a synchronisation changed. The lists hold at most
// MaxListed names each; the counts are exact.
type Report struct {
	// Entries is how many entries the directory returned.
	Entries     int
	Added       []Change
	Updated     []Change
	Deactivated []Change
	Reactivated []Change
	Skipped     []Skip
	Counts      Counts
}

// Counts are the exact sizes of a report's lists, and the people left as
// they were.
type Counts struct {
	Added, Updated, Deactivated, Reactivated, Skipped, Unchanged int
}

// MaxListed bounds each list of a report, so that a first synchronisation
// of a large organisation stays a small answer.
const MaxListed = 200

// Change is one person a synchronisation added, updated, deactivated or
// reactivated.
type Change struct {
	Handle string
	// Fields are what changed in an update: name, nick, timezone, mobile,
	// email, handle, dn.
	Fields []string `json:",omitempty"`
}

// Skip is an entry, or one field of it, that could not be taken, and why.
// Reasons never quote a phone number.
type Skip struct {
	DN     string
	Handle string `json:",omitempty"`
	// Field is the field left out; empty when the whole entry was.
	Field  string `json:",omitempty"`
	Reason string
}

// Changed reports whether the synchronisation changed anyone.
func (r Report) Changed() bool {
	c := r.Counts
	return c.Added+c.Updated+c.Deactivated+c.Reactivated > 0
}

// listed counts v and keeps it in list while the list is shorter than
// MaxListed.
func listed[T any](count *int, list *[]T, v T) {
	*count++
	if len(*list) < MaxListed {
		*list = append(*list, v)
	}
}

func (r *Report) add(c Change) { listed(&r.Counts.Added, &r.Added, c) }

func (r *Report) update(c Change) { listed(&r.Counts.Updated, &r.Updated, c) }

func (r *Report) deactivate(c Change) { listed(&r.Counts.Deactivated, &r.Deactivated, c) }

func (r *Report) reactivate(c Change) { listed(&r.Counts.Reactivated, &r.Reactivated, c) }

func (r *Report) skip(s Skip) { listed(&r.Counts.Skipped, &r.Skipped, s) }
