// Package config reads Klaxon's typed configuration from the environment
// once, at start, validates all of it before anything runs, and prints it
// with secrets masked.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/klaxonhq/klaxon/codec"
	"github.com/klaxonhq/klaxon/directory"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
)

// Config is every setting Klaxon takes, each declared once: its field
// carries its environment variable (env), its default (default), what a
// valid value looks like when parsing can fail (want), and how the start-up
// printout shows it (print: plain, url, number, or secret for a Secret).
// Load, Defaults, Variables and Lines are all derived from these tags.
type Config struct {
	DatabaseURL       string `env:"DATABASE_URL" print:"url"`
	TemporalAddress   string `env:"TEMPORAL_ADDRESS" default:"127.0.0.1:7233"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" default:"default"`
	TaskQueue         string `env:"KLAXON_TASK_QUEUE" default:"klaxon"`
	HTTPAddr          string `env:"KLAXON_HTTP_ADDR" default:":8080"`
	PublicURL         string `env:"KLAXON_PUBLIC_URL" default:"http://localhost:8080"`
	APIToken          Secret `env:"KLAXON_API_TOKEN"`

	TwilioAccountSID string `env:"TWILIO_ACCOUNT_SID"`
	TwilioAuthToken  Secret `env:"TWILIO_AUTH_TOKEN"`
	// TwilioAuthTokenSecondary also validates inbound signatures while an
	// auth token is being rotated.
	TwilioAuthTokenSecondary Secret `env:"TWILIO_AUTH_TOKEN_SECONDARY"`
	TwilioAPIURL             string `env:"KLAXON_TWILIO_API_URL" default:"https://api.twilio.com"`
	FromNumber               string `env:"KLAXON_FROM_NUMBER" print:"number"`

	// PayloadKeys, when set, are the base64 AES-256 keys (comma-separated,
	// the sealing key first) that encrypt every payload Klaxon hands to
	// Temporal.
	PayloadKeys Secret `env:"KLAXON_PAYLOAD_KEYS"`

	SMTPURL   Secret `env:"KLAXON_SMTP_URL" print:"url"`
	EmailFrom string `env:"KLAXON_EMAIL_FROM" default:"klaxon@localhost"`

	APIURL        string `env:"KLAXON_API_URL" default:"http://localhost:8080"`
	DefaultRegion string `env:"KLAXON_DEFAULT_REGION" default:"US"`

	SignupNumber      string   `env:"KLAXON_SIGNUP_NUMBER" print:"number"`
	DiagnosticsNumber string   `env:"KLAXON_DIAGNOSTICS_NUMBER" print:"number"`
	Maintainers       []string `env:"KLAXON_MAINTAINERS" print:"number"`

	// SendRate is messages per second per sending number; 0 is unlimited.
	SendRate float64 `env:"KLAXON_SEND_RATE" default:"1" want:"a number of messages per second, 0 or more"`
	// RecipientRate is messages per second to one recipient on one medium;
	// 0 is unlimited.
	RecipientRate float64 `env:"KLAXON_RECIPIENT_RATE" default:"1" want:"a number of messages per second, 0 or more"`
	ReserveSize   int     `env:"KLAXON_RESERVE_SIZE" default:"8" want:"a whole number, 0 or more"`
	Brand         string  `env:"KLAXON_BRAND" default:"Klaxon"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"KLAXON_LOG_LEVEL" default:"info"`
	// ShutdownTimeout bounds a graceful stop.
	ShutdownTimeout time.Duration `env:"KLAXON_SHUTDOWN_TIMEOUT" default:"15s" want:"a positive duration such as 15s"`
	// AlertQuiet is how long a monitor's alert group must stay resolved
	// before its page is resolved: a flapping group keeps one page.
	AlertQuiet time.Duration `env:"KLAXON_ALERT_QUIET" default:"5m" want:"a duration such as 5m, 0 or more" zero:"ok"`
	// DataDir is where `klaxon dev` keeps its Postgres cluster and Temporal
	// database, when it has to start them itself.
	DataDir string `env:"KLAXON_DATA_DIR" default:".klaxon"`

	// The chat bridge's IRC network: off until IRCServer is set. The first
	// of IRCChannels is the team channel. IRCTrustNicks lets a nick alone
	// identify a linked user on a server without accounts.
	IRCServer     string   `env:"KLAXON_IRC_SERVER"`
	IRCTLS        bool     `env:"KLAXON_IRC_TLS" default:"false" want:"true or false"`
	IRCCAFile     string   `env:"KLAXON_IRC_CA_FILE"`
	IRCNick       string   `env:"KLAXON_IRC_NICK" default:"klaxon"`
	IRCPassword   Secret   `env:"KLAXON_IRC_PASSWORD"`
	IRCChannels   []string `env:"KLAXON_IRC_CHANNELS"`
	IRCTrustNicks bool     `env:"KLAXON_IRC_TRUST_NICKS" default:"false" want:"true or false"`
	// The directory (LDAP): unset URL, Postgres alone holds the people.
	LDAPURL          string        `env:"KLAXON_LDAP_URL" print:"url"`
	LDAPBindDN       string        `env:"KLAXON_LDAP_BIND_DN"`
	LDAPBindPassword Secret        `env:"KLAXON_LDAP_BIND_PASSWORD"`
	LDAPBaseDN       string        `env:"KLAXON_LDAP_BASE_DN"`
	LDAPFilter       string        `env:"KLAXON_LDAP_FILTER" default:"(objectClass=inetOrgPerson)"`
	LDAPAttrs        string        `env:"KLAXON_LDAP_ATTRS" default:"handle=uid,name=cn,nick=uid,mobile=mobile,email=mail,timezone="`
	LDAPSyncInterval time.Duration `env:"KLAXON_LDAP_SYNC_INTERVAL" default:"15m" want:"a positive duration such as 15m"`
	// DefaultTimezone is the timezone of people whose directory entry
	// names none.
	DefaultTimezone string `env:"KLAXON_DEFAULT_TIMEZONE" default:"UTC"`
	// MatrixHomeserver turns the Matrix side of the chat bridge on: the
	// homeserver's base URL. The bot logs in as MatrixUser with
	// MatrixPassword, or with the access token MatrixToken, and joins
	// MatrixRooms (ids or aliases; the first is the team room).
	MatrixHomeserver string   `env:"KLAXON_MATRIX_HOMESERVER" print:"url"`
	MatrixUser       string   `env:"KLAXON_MATRIX_USER"`
	MatrixPassword   Secret   `env:"KLAXON_MATRIX_PASSWORD"`
	MatrixToken      Secret   `env:"KLAXON_MATRIX_TOKEN"`
	MatrixRooms      []string `env:"KLAXON_MATRIX_ROOMS"`
}

// Secret is a string that prints masked.
type Secret string

// String masks the secret: it shows only whether one is set.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// Value returns the secret itself, for the one place that uses it.
func (s Secret) Value() string { return string(s) }

// Defaults are the values of unset variables, from the default tags.
func Defaults() Config {
	var c Config
	// The default tags parse; TestDefaults_Parse holds them to it.
	_ = c.read(func(key string) string { return fieldByEnv(key).Tag.Get("default") })
	return c
}

// Load reads the configuration from getenv (os.Getenv in production) over the
// defaults and validates it. Every problem is reported at once.
func Load(getenv func(string) string) (Config, error) {
	c := Defaults()
	errs := []error{c.read(getenv)}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

// Variables lists every environment variable Klaxon reads, in declaration
// order.
func Variables() []string {
	var out []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		if k := f.Tag.Get("env"); k != "" {
			out = append(out, k)
		}
	}
	return out
}

func fieldByEnv(key string) reflect.StructField {
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Config]()) {
		if f.Tag.Get("env") == key {
			return f
		}
	}
	return reflect.StructField{}
}

// read sets every field whose variable getenv gives a value, parsed by the
// field's type; unset (or blank) variables leave their field alone.
func (c *Config) read(getenv func(string) string) error {
	var errs []error
	v := reflect.ValueOf(c).Elem()
	for _, f := range reflect.VisibleFields(v.Type()) {
		key := f.Tag.Get("env")
		raw := strings.TrimSpace(getenv(key))
		if key == "" || raw == "" {
			continue
		}
		if err := set(v.FieldByIndex(f.Index), raw, f.Tag.Get("zero") == "ok"); err != nil {
			errs = append(errs, fmt.Errorf("%s must be %s, not %q", key, f.Tag.Get("want"), raw))
		}
	}
	return errors.Join(errs...)
}

// set parses raw into dst by dst's type; a duration must be positive
// unless zeroOK.
func set(dst reflect.Value, raw string, zeroOK bool) error {
	switch dst.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 || (d == 0 && !zeroOK) {
			return errBadValue
		}
		dst.SetInt(int64(d))
	case float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || f < 0 {
			return errBadValue
		}
		dst.SetFloat(f)
	case int:
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return errBadValue
		}
		dst.SetInt(int64(n))
	case bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errBadValue
		}
		dst.SetBool(b)
	case []string:
		var list []string
		for _, p := range strings.Split(raw, ",") {
			if p = strings.TrimSpace(p); p != "" {
				list = append(list, p)
			}
		}
		dst.Set(reflect.ValueOf(list))
	default: // string, Secret
		dst.SetString(raw)
	}
	return nil
}

// errBadValue is a value its field's type cannot take.
var errBadValue = errors.New("bad value")

// Validate checks every field that has a form, and normalises phone numbers
// to E.164 in place.
func (c *Config) Validate() error {
	var errs []error
	for _, u := range []struct{ key, val string }{
		{"KLAXON_PUBLIC_URL", c.PublicURL},
		{"KLAXON_TWILIO_API_URL", c.TwilioAPIURL},
		{"KLAXON_API_URL", c.APIURL},
	} {
		p, err := url.Parse(u.val)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be an http(s) URL, not %q", u.key, u.val))
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if phonenumbers.GetCountryCodeForRegion(strings.ToUpper(c.DefaultRegion)) == 0 {
		errs = append(errs, fmt.Errorf("KLAXON_DEFAULT_REGION must be a two-letter region code such as US, not %q", c.DefaultRegion))
	}
	c.DefaultRegion = strings.ToUpper(c.DefaultRegion)
	num := func(key string, v *string) {
		if *v == "" {
			return
		}
		n, err := phone.NormalizeE164(*v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			return
		}
		*v = n
	}
	if c.PayloadKeys != "" {
		if _, err := codec.ParseKeys(c.PayloadKeys.Value()); err != nil {
			errs = append(errs, fmt.Errorf("KLAXON_PAYLOAD_KEYS: %w", err))
		}
	}
	num("KLAXON_FROM_NUMBER", &c.FromNumber)
	num("KLAXON_SIGNUP_NUMBER", &c.SignupNumber)
	num("KLAXON_DIAGNOSTICS_NUMBER", &c.DiagnosticsNumber)
	for i := range c.Maintainers {
		num("KLAXON_MAINTAINERS", &c.Maintainers[i])
	}
	if (c.TwilioAccountSID == "") != (c.TwilioAuthToken == "") {
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together"))
	}
	if c.SMTPURL != "" {
		if p, err := url.Parse(string(c.SMTPURL)); err != nil || p.Scheme != "smtp" || p.Host == "" {
			errs = append(errs, errors.New("KLAXON_SMTP_URL must look like smtp://[user:pass@]host:port[?tls=none|starttls|tls]"))
		}
	}
	if c.Brand == "" {
		c.Brand = "Klaxon"
	}
	if c.LDAPURL != "" {
		if err := directory.CheckURL(c.LDAPURL); err != nil {
			errs = append(errs, fmt.Errorf("KLAXON_LDAP_URL: %w", err))
		}
		if c.LDAPBaseDN == "" {
			errs = append(errs, errors.New("KLAXON_LDAP_BASE_DN must be set with KLAXON_LDAP_URL (e.g. ou=people,dc=example,dc=com)"))
		}
	}
	if _, err := directory.ParseMapping(c.LDAPAttrs); err != nil {
		errs = append(errs, fmt.Errorf("KLAXON_LDAP_ATTRS: %w", err))
	}
	if _, err := time.LoadLocation(c.DefaultTimezone); err != nil || c.DefaultTimezone == "Local" {
		errs = append(errs, fmt.Errorf("KLAXON_DEFAULT_TIMEZONE must be an IANA timezone such as Europe/Berlin, not %q", c.DefaultTimezone))
	}
	if c.MatrixHomeserver != "" {
		if p, err := url.Parse(c.MatrixHomeserver); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("KLAXON_MATRIX_HOMESERVER must be an http(s) URL, not %q", c.MatrixHomeserver))
		}
		if c.MatrixToken == "" && (c.MatrixUser == "" || c.MatrixPassword == "") {
			errs = append(errs, errors.New("KLAXON_MATRIX_HOMESERVER needs KLAXON_MATRIX_USER and KLAXON_MATRIX_PASSWORD, or KLAXON_MATRIX_TOKEN"))
		}
		if len(c.MatrixRooms) == 0 {
			errs = append(errs, errors.New("KLAXON_MATRIX_HOMESERVER needs KLAXON_MATRIX_ROOMS, the rooms to join (the first is the team room)"))
		}
		for _, r := range c.MatrixRooms {
			if !strings.HasPrefix(r, "!") && !strings.HasPrefix(r, "#") || !strings.Contains(r, ":") {
				errs = append(errs, fmt.Errorf("KLAXON_MATRIX_ROOMS must list room ids (!id:server) or aliases (#name:server), not %q", r))
			}
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("KLAXON_LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel))
	}
	return errors.Join(errs...)
}

// Directory is the directory's configuration, for package directory.
func (c Config) Directory() directory.Config {
	m, _ := directory.ParseMapping(c.LDAPAttrs) // Validate checked it
	return directory.Config{
		URL: c.LDAPURL, BindDN: c.LDAPBindDN, BindPassword: c.LDAPBindPassword.Value(), BaseDN: c.LDAPBaseDN,
		Filter: c.LDAPFilter, Mapping: m, DefaultTimezone: c.DefaultTimezone, Region: c.DefaultRegion,
	}
}

// TwilioConfigured reports whether real Twilio credentials are set.
func (c Config) TwilioConfigured() bool { return c.TwilioAccountSID != "" }

// Lines renders the configuration for a start-up log, one NAME=value per
// variable: secrets masked, URL passwords hidden, numbers redacted.
func (c Config) Lines() []string {
	var out []string
	v := reflect.ValueOf(c)
	for _, f := range reflect.VisibleFields(v.Type()) {
		key := f.Tag.Get("env")
		if key == "" {
			continue
		}
		out = append(out, key+"="+show(v.FieldByIndex(f.Index), f.Tag.Get("print")))
	}
	return out
}

// show renders one value as its print tag says.
func show(v reflect.Value, how string) string {
	var s string
	switch x := v.Interface().(type) {
	case Secret:
		if how != "url" {
			return x.String()
		}
		s = x.Value()
	case []string:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = show(reflect.ValueOf(p), how)
		}
		return strings.Join(parts, ",")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		s = fmt.Sprint(x)
	}
	switch how {
	case "url":
		return redact.URL(s)
	case "number":
		return redact.Number(s)
	default:
		return s
	}
}
