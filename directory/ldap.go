package directory

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/go-ldap/ldap/v3"
)

// Kinds of directory failure. They are persisted as Temporal error types:
// never rename one.
const (
	// KindUnreachable: the server cannot be reached or went away; worth
	// retrying.
	KindUnreachable = "DirectoryUnreachable"
	// KindBind: the server refused the credentials.
	KindBind = "DirectoryBindFailed"
	// KindSearch: the server refused the search (no such base DN, a bad
	// filter, no access).
	KindSearch = "DirectorySearchFailed"
	// KindEmpty: the search found nobody while people synchronised before
	// are active; nobody is deactivated on such an answer.
	KindEmpty = "DirectoryEmpty"
	// KindNotConfigured: KLAXON_LDAP_URL is not set.
	KindNotConfigured = "DirectoryNotConfigured"
)

// Error is a failure to read the directory, classified: Retryable ones
// (the server down or busy) may succeed later; the others need a person.
// Its message is one sentence a maintainer can act on.
type Error struct {
	Kind      string
	Retryable bool
	Message   string
	Err       error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// ErrNotConfigured is returned by a synchronisation with no directory URL.
var ErrNotConfigured = &Error{Kind: KindNotConfigured,
	Message: "The directory is not configured: set KLAXON_LDAP_URL and KLAXON_LDAP_BASE_DN on the Klaxon server."}

// Entry is one directory entry: its DN and the values of the attributes
// the mapping reads.
type Entry struct {
	DN    string
	Attrs map[string][]string
}

// value returns the first non-blank value of attr (compared without regard
// to case), or "".
func (e Entry) value(attr string) string {
	if attr == "" {
		return ""
	}
	for k, vs := range e.Attrs {
		if strings.EqualFold(k, attr) {
			for _, v := range vs {
				if v = strings.TrimSpace(v); v != "" {
					return v
				}
			}
		}
	}
	return ""
}

// Fetch connects to the directory, binds, and reads every entry the filter
// selects under the base DN with a paged search (so that a server's size
// limit does not cut the list short).
func Fetch(ctx context.Context, cfg Config) ([]Entry, error) {
	if cfg.URL == "" {
		return nil, ErrNotConfigured
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	conn, err := ldap.DialURL(cfg.URL,
		ldap.DialWithDialer(&net.Dialer{Timeout: timeout}),
		ldap.DialWithTLSConfig(&tls.Config{MinVersion: tls.VersionTLS12}))
	if err != nil {
		return nil, &Error{Kind: KindUnreachable, Retryable: true, Err: err,
			Message: fmt.Sprintf("The directory server %s cannot be reached: %s.", cfg.URL, cause(err))}
	}
	defer func() { _ = conn.Close() }()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	conn.SetTimeout(timeout)

	if cfg.BindDN != "" || cfg.BindPassword != "" {
		if err := conn.Bind(cfg.BindDN, cfg.BindPassword); err != nil {
			return nil, classify(ctx, cfg, "bind", err)
		}
	}
	size := cfg.PageSize
	if size == 0 {
		size = DefaultPageSize
	}
	filter := cfg.Filter
	if filter == "" {
		filter = DefaultFilter
	}
	req := ldap.NewSearchRequest(cfg.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false,
		filter, cfg.Mapping.attributes(), nil)
	var res *ldap.SearchResult
	for {
		res, err = conn.SearchWithPaging(req, size)
		// A server whose page limit is lower may refuse the size (slapd's
		// size.pr does) rather than cap it: ask for smaller pages.
		if err == nil || !pageSizeRefused(err) || size <= minPageSize {
			break
		}
		size = max(size/4, minPageSize)
		req.Controls = nil
	}
	if err != nil {
		return nil, classify(ctx, cfg, "search", err)
	}
	out := make([]Entry, 0, len(res.Entries))
	for _, e := range res.Entries {
		en := Entry{DN: e.DN, Attrs: make(map[string][]string, len(e.Attributes))}
		for _, a := range e.Attributes {
			en.Attrs[a.Name] = a.Values
		}
		out = append(out, en)
	}
	return out, nil
}

// minPageSize is the smallest page Fetch falls back to.
const minPageSize = 10

// pageSizeRefused reports whether the server refused the paged search's
// page size.
func pageSizeRefused(err error) bool {
	var le *ldap.Error
	return errors.As(err, &le) && strings.Contains(strings.ToLower(le.Error()), "page size")
}

// classify turns an LDAP failure of op into an *Error.
func classify(ctx context.Context, cfg Config, op string, err error) *Error {
	if ctx.Err() != nil {
		return &Error{Kind: KindUnreachable, Retryable: true, Err: err,
			Message: fmt.Sprintf("The directory %s at %s was interrupted: %s.", op, cfg.URL, ctx.Err())}
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		return &Error{Kind: KindUnreachable, Retryable: true, Err: err,
			Message: fmt.Sprintf("The directory server %s failed during the %s: %s.", cfg.URL, op, cause(err))}
	}
	name := ldap.LDAPResultCodeMap[le.ResultCode]
	switch le.ResultCode {
	case ldap.ErrorNetwork, ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultServerDown,
		ldap.LDAPResultTimeout, ldap.LDAPResultTimeLimitExceeded, ldap.LDAPResultUnwillingToPerform,
		ldap.LDAPResultConnectError, ldap.LDAPResultOther, ldap.LDAPResultLoopDetect:
		return &Error{Kind: KindUnreachable, Retryable: true, Err: err,
			Message: fmt.Sprintf("The directory server %s failed during the %s: %s.", cfg.URL, op, cause(err))}
	}
	if op == "bind" {
		who := cfg.BindDN
		if who == "" {
			who = "an empty DN"
		}
		return &Error{Kind: KindBind, Err: err,
			Message: fmt.Sprintf("The directory server %s refused the bind as %s: %s; check KLAXON_LDAP_BIND_DN and KLAXON_LDAP_BIND_PASSWORD.", cfg.URL, who, strings.ToLower(name))}
	}
	switch le.ResultCode {
	case ldap.LDAPResultNoSuchObject:
		return &Error{Kind: KindSearch, Err: err,
			Message: fmt.Sprintf("The directory has no entry %q: check KLAXON_LDAP_BASE_DN.", cfg.BaseDN)}
	case ldap.LDAPResultInvalidCredentials, ldap.LDAPResultInappropriateAuthentication, ldap.LDAPResultInsufficientAccessRights, ldap.LDAPResultStrongAuthRequired, ldap.LDAPResultConfidentialityRequired:
		return &Error{Kind: KindBind, Err: err,
			Message: fmt.Sprintf("The directory server %s refused the search: %s; check KLAXON_LDAP_BIND_DN and KLAXON_LDAP_BIND_PASSWORD.", cfg.URL, strings.ToLower(name))}
	case ldap.ErrorFilterCompile, ldap.LDAPResultProtocolError, ldap.ErrorFilterDecompile:
		return &Error{Kind: KindSearch, Err: err,
			Message: fmt.Sprintf("The directory refused the search filter %q: %s; check KLAXON_LDAP_FILTER.", cfg.Filter, cause(err))}
	}
	return &Error{Kind: KindSearch, Err: err,
		Message: fmt.Sprintf("The directory server %s refused the search: %s.", cfg.URL, cause(err))}
}

// cause is the innermost message of err, without go-ldap's framing.
func cause(err error) string {
	var le *ldap.Error
	if errors.As(err, &le) && le.Err != nil {
		msg := le.Err.Error()
		if name := ldap.LDAPResultCodeMap[le.ResultCode]; name != "" && msg == "" {
			return strings.ToLower(name)
		}
		return strings.TrimSuffix(msg, ".")
	}
	return strings.TrimSuffix(err.Error(), ".")
}
