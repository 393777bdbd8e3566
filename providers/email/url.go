package email

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// TLSMode is how a connection to the SMTP server is secured.
type TLSMode string

// The TLS modes, as written in the URL's tls parameter.
const (
	// TLSOpportunistic upgrades with STARTTLS when the server offers it and
	// sends in plain text otherwise. It is what a URL without tls= means.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSNone never encrypts (tls=none).
	TLSNone TLSMode = "none"
	// TLSStartTLS requires STARTTLS and fails without it (tls=starttls).
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte, as on port 465 (tls=tls,
	// or the smtps scheme).
	TLSImplicit TLSMode = "tls"
)

// Settings is a parsed KLAXON_SMTP_URL.
type Settings struct {
	Host               string
	Port               int
	Username, Password string
	TLS                TLSMode
}

// String shows the settings as a URL with the password masked, for logs.
func (s Settings) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.Host, strconv.Itoa(s.Port))}
	if s.Username != "" {
		u.User = url.UserPassword(s.Username, "xxxxx")
		if s.Password == "" {
			u.User = url.User(s.Username)
		}
	}
	if s.TLS != TLSOpportunistic {
		u.RawQuery = "tls=" + string(s.TLS)
	}
	return u.String()
}

// defaultPort is the usual port of each mode when the URL names none.
func defaultPort(mode TLSMode) int {
	switch mode {
	case TLSImplicit:
		return 465
	case TLSStartTLS:
		return 587
	default:
		return 25
	}
}

// ParseURL parses smtp://[user:pass@]host[:port][?tls=none|starttls|tls].
// Without tls=, STARTTLS is used when the server offers it. The smtps
// scheme means tls=tls. Without a port, the usual one for the mode is used
// (25, 587 for starttls, 465 for tls). Errors never repeat the password.
func ParseURL(raw string) (Settings, error) {
	if strings.TrimSpace(raw) == "" {
		return Settings{}, errors.New("smtp url is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// err repeats the URL, password included: never show it.
		if strings.Contains(err.Error(), "invalid port") {
			return Settings{}, errors.New("smtp url: the port is not a number from 1 to 65535")
		}
		return Settings{}, errors.New("smtp url is not a URL; want smtp://[user:pass@]host:port[?tls=none|starttls|tls]")
	}
	shown := u.Redacted()
	mode := TLSOpportunistic
	switch strings.ToLower(u.Scheme) {
	case "smtp":
	case "smtps":
		mode = TLSImplicit
	case "":
		return Settings{}, fmt.Errorf("smtp url %q has no scheme; want smtp://host:port", shown)
	default:
		return Settings{}, fmt.Errorf("smtp url %q: unsupported scheme %q; want smtp:// or smtps://", shown, u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return Settings{}, fmt.Errorf("smtp url %q has no host; want smtp://host:port", shown)
	}
	if u.Path != "" && u.Path != "/" {
		return Settings{}, fmt.Errorf("smtp url %q must not have a path", shown)
	}
	q := u.Query()
	for k := range q {
		if k != "tls" {
			return Settings{}, fmt.Errorf("smtp url %q: unknown parameter %q; only tls is accepted", shown, k)
		}
	}
	if q.Has("tls") {
		v := TLSMode(strings.ToLower(q.Get("tls")))
		switch v {
		case TLSNone, TLSStartTLS, TLSImplicit:
		default:
			return Settings{}, fmt.Errorf("smtp url %q: tls=%q is not one of none, starttls, tls", shown, q.Get("tls"))
		}
		if mode == TLSImplicit && v != TLSImplicit {
			return Settings{}, fmt.Errorf("smtp url %q: the smtps scheme already means tls=tls", shown)
		}
		mode = v
	}
	s := Settings{Host: u.Hostname(), TLS: mode, Port: defaultPort(mode)}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return Settings{}, fmt.Errorf("smtp url %q: port %q is not a number from 1 to 65535", shown, p)
		}
		s.Port = port
	} else if strings.HasSuffix(u.Host, ":") {
		return Settings{}, fmt.Errorf("smtp url %q: empty port", shown)
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" {
			return Settings{}, fmt.Errorf("smtp url %q: a password needs a user name", shown)
		}
	}
	return s, nil
}
