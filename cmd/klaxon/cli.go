package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/client"
)

// cli is the whole command line: one field per `klaxon` command.
type cli struct {
	Dev     devCmd     `cmd:"" help:"Run everything on this machine with no accounts (Temporal, Postgres, phone simulator, mail sink)."`
	Serve   serveCmd   `cmd:"" help:"Run migrations, then the webhook gateway, REST API and Temporal worker."`
	Worker  workerCmd  `cmd:"" help:"Run only the Temporal worker."`
	Gateway gatewayCmd `cmd:"" help:"Run only the webhook gateway and REST API."`
	Migrate migrateCmd `cmd:"" help:"Apply the Postgres schema and exit."`
	Sim     simCmd     `cmd:"" help:"Talk to the phone simulator: text Klaxon as any number, read a phone's inbox."`

	Message   messageCmd   `cmd:"" help:"Send a message through the pipeline, or show one."`
	User      userCmd      `cmd:"" help:"People Klaxon can reach."`
	Contact   contactCmd   `cmd:"" help:"Their contact methods: add, verify, resend, list."`
	Directory directoryCmd `cmd:"" help:"The LDAP directory: sync now and print what changed."`
	OTP       otpCmd       `cmd:"" name:"otp" help:"Login codes for other applications: send, check."`

	Page    pageCmd    `cmd:"" help:"Page someone until they acknowledge, or show or list pages."`
	Ack     ackCmd     `cmd:"" help:"Acknowledge a page."`
	Resolve resolveCmd `cmd:"" help:"Resolve a page."`
	Policy  policyCmd  `cmd:"" help:"Escalation policies: add, list, show."`

	Rotation rotationCmd `cmd:"" help:"On-call rotations: add, list, show, members, set, override, calendar, replan, delete."`
	OnCall   onCallCmd   `cmd:"" name:"oncall" help:"Who is on call for a rotation now (or --at another time)."`

	Service      serviceCmd      `cmd:"" help:"Monitored services and their integration keys: add, list, show, rotate-key, delete."`
	Subscription subscriptionCmd `cmd:"" help:"\"Send me an SMS when …\": FYIs of page events, by SMS, email or call."`

	Channel channelCmd `cmd:"" help:"SMS channels: create, list, show, delete."`
	Number  numberCmd  `cmd:"" help:"The channels' phone-number pool: add, list, provision."`
}

// cmdEnv is what every command's Run gets: the process's context and
// environment.
type cmdEnv struct {
	ctx context.Context
	env
}

// client returns a client of the REST API at KLAXON_API_URL, authenticated
// with KLAXON_API_TOKEN.
func (e *cmdEnv) client() (*client.Client, error) {
	base := e.getenv("KLAXON_API_URL")
	if base == "" {
		base = "http://localhost:8080"
	}
	token := e.getenv("KLAXON_API_TOKEN")
	if token == "" {
		return nil, errors.New("KLAXON_API_TOKEN is not set (klaxon dev prints it at start)")
	}
	c, err := client.New(base, token)
	if err != nil {
		return nil, fmt.Errorf("KLAXON_API_URL: %w", err)
	}
	return c, nil
}

// jsonFlag is the --json flag of `show` commands: the API's answer for
// scripts instead of text for people.
type jsonFlag struct {
	JSON bool `name:"json" help:"Print the API's JSON instead of text."`
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// humanDuration says a duration as a person would: "5 minutes", "1 hour 30
// minutes", "2 days".
func humanDuration(d time.Duration) string {
	if d == 0 {
		return "0 seconds"
	}
	neg := d < 0
	if neg {
		d = -d
	}
	units := []struct {
		name string
		size time.Duration
	}{{"day", 24 * time.Hour}, {"hour", time.Hour}, {"minute", time.Minute}, {"second", time.Second}}
	var parts []string
	for _, u := range units {
		if n := d / u.size; n > 0 {
			parts = append(parts, plural(int64(n), u.name))
			d -= n * u.size
		}
	}
	if len(parts) == 0 {
		parts = []string{d.String()}
	}
	s := strings.Join(parts, " ")
	if neg {
		s = "minus " + s
	}
	return s
}

// compactDuration writes a duration as a flag takes it, without Go's zero
// units: "5m", "1m30s", "2h", not "5m0s".
func compactDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	for _, u := range []struct {
		suffix string
		size   time.Duration
	}{{"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := d / u.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.suffix)
			d -= n * u.size
		}
	}
	if d > 0 {
		b.WriteString(d.String())
	}
	return b.String()
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// whenLayout is how the CLI shows instants outside rotations.
const whenLayout = "2006-01-02 15:04:05 MST"

func when(t time.Time) string { return t.Local().Format(whenLayout) }

func clipLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// joinNonEmpty joins the parts that say something with ": ".
func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ": ")
}
