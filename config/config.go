// Package config reads Klaxon's typed configuration from the environment
// once, at start, validates all of it before anything runs, and prints it
// with secrets masked.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/klaxonhq/klaxon/codec"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
)

// Config is every setting Klaxon takes. The environment variable of each field
// is in its `env` tag; CONTRACT.md is the reference.
type Config struct {
	DatabaseURL       string `env:"DATABASE_URL"`
	TemporalAddress   string `env:"TEMPORAL_ADDRESS"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE"`
	TaskQueue         string `env:"KLAXON_TASK_QUEUE"`
	HTTPAddr          string `env:"KLAXON_HTTP_ADDR"`
	PublicURL         string `env:"KLAXON_PUBLIC_URL"`
	APIToken          Secret `env:"KLAXON_API_TOKEN"`

	TwilioAccountSID string `env:"TWILIO_ACCOUNT_SID"`
	TwilioAuthToken  Secret `env:"TWILIO_AUTH_TOKEN"`
	// TwilioAuthTokenSecondary also validates inbound signatures while an
	// auth token is being rotated.
	TwilioAuthTokenSecondary Secret `env:"TWILIO_AUTH_TOKEN_SECONDARY"`
	TwilioAPIURL             string `env:"KLAXON_TWILIO_API_URL"`
	FromNumber               string `env:"KLAXON_FROM_NUMBER"`

	// PayloadKeys, when set, are the base64 AES-256 keys (comma-separated,
	// the sealing key first) that encrypt every payload Klaxon hands to
	// Temporal.
	PayloadKeys Secret `env:"KLAXON_PAYLOAD_KEYS"`

	SMTPURL   Secret `env:"KLAXON_SMTP_URL"`
	EmailFrom string `env:"KLAXON_EMAIL_FROM"`

	APIURL        string `env:"KLAXON_API_URL"`
	DefaultRegion string `env:"KLAXON_DEFAULT_REGION"`

	SignupNumber      string   `env:"KLAXON_SIGNUP_NUMBER"`
	DiagnosticsNumber string   `env:"KLAXON_DIAGNOSTICS_NUMBER"`
	Maintainers       []string `env:"KLAXON_MAINTAINERS"`

	// SendRate is messages per second per sending number; 0 is unlimited.
	SendRate float64 `env:"KLAXON_SEND_RATE"`
	// RecipientRate is messages per second to one recipient on one medium;
	// 0 is unlimited.
	RecipientRate float64 `env:"KLAXON_RECIPIENT_RATE"`
	ReserveSize   int     `env:"KLAXON_RESERVE_SIZE"`
	Brand         string  `env:"KLAXON_BRAND"`

	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"KLAXON_LOG_LEVEL"`
	// ShutdownTimeout bounds a graceful stop.
	ShutdownTimeout time.Duration `env:"KLAXON_SHUTDOWN_TIMEOUT"`
	// DataDir is where `klaxon dev` keeps its Postgres cluster and Temporal
	// database, when it has to start them itself.
	DataDir string `env:"KLAXON_DATA_DIR"`
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

// Defaults are the values CONTRACT.md gives for unset variables.
func Defaults() Config {
	return Config{
		TemporalAddress:   "127.0.0.1:7233",
		TemporalNamespace: "default",
		TaskQueue:         "klaxon",
		HTTPAddr:          ":8080",
		PublicURL:         "http://localhost:8080",
		TwilioAPIURL:      "https://api.twilio.com",
		EmailFrom:         "klaxon@localhost",
		APIURL:            "http://localhost:8080",
		DefaultRegion:     "US",
		SendRate:          1,
		RecipientRate:     1,
		ReserveSize:       8,
		Brand:             "Klaxon",
		LogLevel:          "info",
		ShutdownTimeout:   15 * time.Second,
		DataDir:           ".klaxon",
	}
}

// Load reads the configuration from getenv (os.Getenv in production) over the
// defaults and validates it. Every problem is reported at once.
func Load(getenv func(string) string) (Config, error) {
	c := Defaults()
	var errs []error
	str := func(dst *string, key string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	sec := func(dst *Secret, key string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = Secret(v)
		}
	}
	str(&c.DatabaseURL, "DATABASE_URL")
	str(&c.TemporalAddress, "TEMPORAL_ADDRESS")
	str(&c.TemporalNamespace, "TEMPORAL_NAMESPACE")
	str(&c.TaskQueue, "KLAXON_TASK_QUEUE")
	str(&c.HTTPAddr, "KLAXON_HTTP_ADDR")
	str(&c.PublicURL, "KLAXON_PUBLIC_URL")
	sec(&c.APIToken, "KLAXON_API_TOKEN")
	str(&c.TwilioAccountSID, "TWILIO_ACCOUNT_SID")
	sec(&c.TwilioAuthToken, "TWILIO_AUTH_TOKEN")
	sec(&c.TwilioAuthTokenSecondary, "TWILIO_AUTH_TOKEN_SECONDARY")
	str(&c.TwilioAPIURL, "KLAXON_TWILIO_API_URL")
	str(&c.FromNumber, "KLAXON_FROM_NUMBER")
	sec(&c.SMTPURL, "KLAXON_SMTP_URL")
	sec(&c.PayloadKeys, "KLAXON_PAYLOAD_KEYS")
	str(&c.EmailFrom, "KLAXON_EMAIL_FROM")
	str(&c.APIURL, "KLAXON_API_URL")
	str(&c.DefaultRegion, "KLAXON_DEFAULT_REGION")
	str(&c.SignupNumber, "KLAXON_SIGNUP_NUMBER")
	str(&c.DiagnosticsNumber, "KLAXON_DIAGNOSTICS_NUMBER")
	str(&c.Brand, "KLAXON_BRAND")
	str(&c.LogLevel, "KLAXON_LOG_LEVEL")
	str(&c.DataDir, "KLAXON_DATA_DIR")
	if v := strings.TrimSpace(getenv("KLAXON_MAINTAINERS")); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.Maintainers = append(c.Maintainers, p)
			}
		}
	}
	if v := strings.TrimSpace(getenv("KLAXON_SEND_RATE")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			errs = append(errs, fmt.Errorf("KLAXON_SEND_RATE must be a number of messages per second, 0 or more, not %q", v))
		} else {
			c.SendRate = f
		}
	}
	if v := strings.TrimSpace(getenv("KLAXON_RECIPIENT_RATE")); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			errs = append(errs, fmt.Errorf("KLAXON_RECIPIENT_RATE must be a number of messages per second, 0 or more, not %q", v))
		} else {
			c.RecipientRate = f
		}
	}
	if v := strings.TrimSpace(getenv("KLAXON_RESERVE_SIZE")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("KLAXON_RESERVE_SIZE must be a whole number, 0 or more, not %q", v))
		} else {
			c.ReserveSize = n
		}
	}
	if v := strings.TrimSpace(getenv("KLAXON_SHUTDOWN_TIMEOUT")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("KLAXON_SHUTDOWN_TIMEOUT must be a positive duration such as 15s, not %q", v))
		} else {
			c.ShutdownTimeout = d
		}
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	return c, errors.Join(errs...)
}

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
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("KLAXON_LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel))
	}
	return errors.Join(errs...)
}

// TwilioConfigured reports whether real Twilio credentials are set.
func (c Config) TwilioConfigured() bool { return c.TwilioAccountSID != "" }

// Lines renders the configuration for a start-up log, secrets masked and the
// database password hidden.
func (c Config) Lines() []string {
	return []string{
		"DATABASE_URL=" + redact.URL(c.DatabaseURL),
		"TEMPORAL_ADDRESS=" + c.TemporalAddress,
		"TEMPORAL_NAMESPACE=" + c.TemporalNamespace,
		"KLAXON_HTTP_ADDR=" + c.HTTPAddr,
		"KLAXON_PUBLIC_URL=" + c.PublicURL,
		"KLAXON_API_TOKEN=" + c.APIToken.String(),
		"TWILIO_ACCOUNT_SID=" + c.TwilioAccountSID,
		"TWILIO_AUTH_TOKEN=" + c.TwilioAuthToken.String(),
		"KLAXON_TWILIO_API_URL=" + c.TwilioAPIURL,
		"KLAXON_FROM_NUMBER=" + redact.Number(c.FromNumber),
		"KLAXON_SMTP_URL=" + redact.URL(string(c.SMTPURL)),
		"KLAXON_PAYLOAD_KEYS=" + c.PayloadKeys.String(),
		"KLAXON_EMAIL_FROM=" + c.EmailFrom,
		"KLAXON_DEFAULT_REGION=" + c.DefaultRegion,
		"KLAXON_SEND_RATE=" + strconv.FormatFloat(c.SendRate, 'f', -1, 64),
		"KLAXON_RECIPIENT_RATE=" + strconv.FormatFloat(c.RecipientRate, 'f', -1, 64),
		"KLAXON_RESERVE_SIZE=" + strconv.Itoa(c.ReserveSize),
		"KLAXON_BRAND=" + c.Brand,
	}
}
