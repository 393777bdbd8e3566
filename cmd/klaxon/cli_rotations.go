package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

const rotationUsage = `usage:
  klaxon rotation add NAME --timezone TZ --members A,B,C --shift 1w|3d|12h [--start TIME] [--handoff-time 09:00] [--handoff-weekday mon] [--reminder 1h|0]
  klaxon rotation list
  klaxon rotation show NAME [--shifts N] [--json]
  klaxon rotation members NAME A,B,C            (replace the list, in order)
  klaxon rotation members NAME --add D --remove B
  klaxon rotation set NAME --reminder 30m
  klaxon rotation override add NAME --user U --end TIME [--start TIME]
  klaxon rotation override list NAME [--all]
  klaxon rotation override remove NAME ID
  klaxon rotation calendar NAME [--weeks N]      (iCalendar on stdout)
  klaxon rotation replan NAME
  klaxon rotation delete NAME
TIME is RFC 3339 ("2026-03-02T09:00:00+01:00"), "now", "+2h30m" from now, or
"2026-03-02 09:00" in the rotation's timezone.`

// rotationTimeLayout is how the CLI shows instants: in the rotation's zone.
const rotationTimeLayout = "Mon 2 Jan 2006 15:04 MST"

// rotationJSON is the API's view of a rotation, as far as the CLI shows it.
type rotationJSON struct {
	Name            string     `json:"name"`
	Timezone        string     `json:"timezone"`
	Shift           string     `json:"shift"`
	HandoffTime     string     `json:"handoff_time"`
	HandoffWeekday  string     `json:"handoff_weekday"`
	Start           time.Time  `json:"start"`
	ReminderMinutes int        `json:"reminder_minutes"`
	Members         []string   `json:"members"`
	OnCall          onCallJSON `json:"oncall"`
	Upcoming        []struct {
		User          string     `json:"user"`
		ScheduledUser string     `json:"scheduled_user"`
		OverrideID    int64      `json:"override_id"`
		Start         time.Time  `json:"start"`
		End           *time.Time `json:"end"`
	} `json:"upcoming"`
	Handoffs *struct {
		WorkflowID string `json:"workflow_id"`
		Status     string `json:"status"`
		State      *struct {
			Status      string     `json:"status"`
			NextHandoff *time.Time `json:"next_handoff"`
			Incoming    string     `json:"incoming"`
		} `json:"state"`
	} `json:"handoffs"`
	Warnings []string `json:"warnings"`
}

// onCallJSON is GET /api/v1/rotations/{name}/oncall.
type onCallJSON struct {
	Rotation      string     `json:"rotation"`
	Timezone      string     `json:"timezone"`
	User          *string    `json:"user"`
	Until         *time.Time `json:"until"`
	ScheduledUser *string    `json:"scheduled_user"`
	OverrideID    int64      `json:"override_id"`
}

type overrideJSON struct {
	ID       int64     `json:"id"`
	Rotation string    `json:"rotation"`
	User     string    `json:"user"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Covers   []string  `json:"covers"`
	Warnings []string  `json:"warnings"`
}

// runRotation is `klaxon rotation …`: on-call rotations over the REST API.
func runRotation(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{rotationUsage}
	}
	sub, rest := args[0], args[1:]
	if sub == "list" {
		if len(rest) != 0 {
			return usageError{"usage: klaxon rotation list"}
		}
		return rotationList(ctx, e)
	}
	if sub == "override" {
		return runOverride(ctx, e, rest)
	}
	if sub == "help" || sub == "-h" || sub == "--help" {
		fmt.Fprintln(e.stdout, rotationUsage)
		return nil
	}
	name, flags, err := rotationName(sub, rest)
	if err != nil {
		return err
	}
	switch sub {
	case "add", "create":
		return rotationAdd(ctx, e, name, flags)
	case "show":
		return rotationShow(ctx, e, name, flags)
	case "members":
		return rotationMembers(ctx, e, name, flags)
	case "set":
		return rotationSet(ctx, e, name, flags)
	case "calendar":
		return rotationCalendar(ctx, e, name, flags)
	case "replan":
		return rotationSimple(ctx, e, http.MethodPost, name, "/replan", flags, "handoffs re-planned for "+name)
	case "delete", "remove":
		return rotationSimple(ctx, e, http.MethodDelete, name, "", flags, "deleted rotation "+name)
	default:
		return usageError{fmt.Sprintf("unknown rotation subcommand %q\n%s", sub, rotationUsage)}
	}
}

// rotationName takes the first positional argument after a subcommand as
// the rotation's NAME, so that flags may come before or after it.
func rotationName(sub string, rest []string) (string, []string, error) {
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			others := append(append([]string{}, rest[:i]...), rest[i+1:]...)
			return a, others, nil
		}
		if !strings.Contains(a, "=") && !isBoolFlag(a) {
			i++ // the flag's value
		}
	}
	return "", nil, usageError{fmt.Sprintf("klaxon rotation %s needs a rotation NAME\n%s", sub, rotationUsage)}
}

// isBoolFlag reports whether a is one of the CLI's boolean flags, which
// take no separate value.
func isBoolFlag(a string) bool {
	switch strings.TrimLeft(a, "-") {
	case "json", "all":
		return true
	}
	return false
}

// parseAll parses flags that may be interleaved with positional arguments,
// returning the positional ones.
func parseAll(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func rotationAdd(ctx context.Context, e env, name string, args []string) error {
	fs := newFlags("rotation add", e)
	tz := fs.String("timezone", "", "IANA timezone of the handoffs, e.g. Europe/Berlin (required)")
	members := fs.String("members", "", "comma-separated handles, in order (required)")
	shift := fs.String("shift", "", "shift length: 1w, 2d, 12h... (required)")
	start := fs.String("start", "", "when the first member's first shift begins (default now)")
	handoffTime := fs.String("handoff-time", "", "local time of day of every handoff, HH:MM")
	handoffWeekday := fs.String("handoff-weekday", "", "weekday of every handoff (weekly shifts)")
	reminder := fs.String("reminder", "", "remind the incoming person this long before a shift (default 1h; 0 is off)")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q\n%s", pos[0], rotationUsage)}
	}
	if *tz == "" || *members == "" || *shift == "" {
		return usageError{"rotation add needs --timezone, --members and --shift\n" + rotationUsage}
	}
	req := map[string]any{"name": name, "timezone": *tz, "members": splitList(*members)}
	field, n, err := parseShift(*shift)
	if err != nil {
		return err
	}
	req[field] = n
	if *start != "" {
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			loc = time.UTC // the API names the bad timezone
		}
		t, err := parseCLITime(*start, loc, time.Now())
		if err != nil {
			return err
		}
		req["start"] = t.Format(time.RFC3339)
	}
	if *handoffTime != "" {
		req["handoff_time"] = *handoffTime
	}
	if *handoffWeekday != "" {
		req["handoff_weekday"] = *handoffWeekday
	}
	if *reminder != "" {
		m, err := parseReminder(*reminder)
		if err != nil {
			return err
		}
		req["reminder_minutes"] = m
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	var out rotationJSON
	if err := c.do(ctx, http.MethodPost, "/api/v1/rotations", req, &out); err != nil {
		return err
	}
	printRotation(e.stdout, out)
	warn(e, out.Warnings)
	return nil
}

// parseShift reads "1w", "3d", "12h" (or a bare number of hours) as the
// API field and its value.
func parseShift(s string) (string, int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	field := "shift_hours"
	switch {
	case strings.HasSuffix(s, "w"):
		field, s = "shift_weeks", strings.TrimSuffix(s, "w")
	case strings.HasSuffix(s, "d"):
		field, s = "shift_days", strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "h"):
		s = strings.TrimSuffix(s, "h")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return "", 0, usageError{fmt.Sprintf("--shift %q: write a length such as 1w, 2d or 12h", s)}
	}
	return field, n, nil
}

// parseReminder reads "1h", "30m" or "0" as minutes.
func parseReminder(s string) (int, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 || d%time.Minute != 0 {
		return 0, usageError{fmt.Sprintf("--reminder %q: write a whole number of minutes such as 1h, 30m, or 0 for none", s)}
	}
	return int(d / time.Minute), nil
}

// parseCLITime reads RFC 3339, "now", "+DURATION" from now, or a local
// "YYYY-MM-DD HH:MM" in loc.
func parseCLITime(s string, loc *time.Location, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "+"):
		d, err := time.ParseDuration(s[1:])
		if err == nil {
			return now.Add(d), nil
		}
	default:
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, nil
		}
		for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("%q is not a time: use RFC 3339, \"now\", \"+2h\" or \"2026-03-02 09:00\"", s)}
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

func warn(e env, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "warning: "+w)
	}
}

// describeOnCall says who is on call in one line.
func describeOnCall(oc onCallJSON, loc *time.Location) string {
	if oc.User == nil {
		if oc.Until != nil {
			return fmt.Sprintf("Nobody is on call for %s yet; the rotation starts %s.", oc.Rotation, oc.Until.In(loc).Format(rotationTimeLayout))
		}
		return fmt.Sprintf("Nobody is on call for %s.", oc.Rotation)
	}
	s := *oc.User + " is on call for " + oc.Rotation
	if oc.ScheduledUser != nil && *oc.ScheduledUser != *oc.User {
		s += fmt.Sprintf(" (covering for %s, override %d)", *oc.ScheduledUser, oc.OverrideID)
	}
	if oc.Until != nil {
		s += " until " + oc.Until.In(loc).Format(rotationTimeLayout)
	}
	return s + "."
}

func locationOf(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

func printRotation(w io.Writer, r rotationJSON) {
	loc := locationOf(r.Timezone)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	handoff := r.HandoffTime
	if r.HandoffWeekday != "" {
		handoff = r.HandoffWeekday + " " + handoff
	}
	fmt.Fprintf(tw, "Rotation\t%s\n", r.Name)
	fmt.Fprintf(tw, "Shifts\t%s, handing off %s %s\n", r.Shift, handoff, r.Timezone)
	fmt.Fprintf(tw, "Starts\t%s\n", r.Start.In(loc).Format(rotationTimeLayout))
	fmt.Fprintf(tw, "Members\t%s\n", strings.Join(r.Members, ", "))
	reminder := "off"
	if r.ReminderMinutes > 0 {
		reminder = (time.Duration(r.ReminderMinutes) * time.Minute).String() + " before each shift"
	}
	fmt.Fprintf(tw, "Reminder\t%s\n", reminder)
	fmt.Fprintf(tw, "On call\t%s\n", describeOnCall(r.OnCall, loc))
	if h := r.Handoffs; h != nil {
		s := h.Status
		if h.State != nil && h.State.NextHandoff != nil {
			s += fmt.Sprintf(", next handoff %s to %s", h.State.NextHandoff.In(loc).Format(rotationTimeLayout), h.State.Incoming)
		}
		fmt.Fprintf(tw, "Handoffs\t%s (workflow %s)\n", s, h.WorkflowID)
	}
	_ = tw.Flush()
	if len(r.Upcoming) > 0 {
		fmt.Fprintln(w, "\nUpcoming:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  FROM\tTO\tON CALL\tNOTE")
		for _, s := range r.Upcoming {
			end := "—"
			if s.End != nil {
				end = s.End.In(loc).Format(rotationTimeLayout)
			}
			note := ""
			if s.OverrideID != 0 {
				note = fmt.Sprintf("override %d", s.OverrideID)
				if s.ScheduledUser != "" {
					note += ", for " + s.ScheduledUser
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Start.In(loc).Format(rotationTimeLayout), end, s.User, note)
		}
		_ = tw.Flush()
	}
}

func rotationList(ctx context.Context, e env) error {
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	var out struct {
		Rotations []rotationJSON `json:"rotations"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/rotations", nil, &out); err != nil {
		return err
	}
	if len(out.Rotations) == 0 {
		fmt.Fprintln(e.stdout, "No rotations yet; create one with `klaxon rotation add`.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTIMEZONE\tSHIFT\tMEMBERS\tON CALL\tUNTIL")
	for _, r := range out.Rotations {
		who, until := "nobody", "—"
		if r.OnCall.User != nil {
			who = *r.OnCall.User
		}
		if r.OnCall.Until != nil {
			until = r.OnCall.Until.In(locationOf(r.Timezone)).Format(rotationTimeLayout)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Timezone, r.Shift, strings.Join(r.Members, ","), who, until)
	}
	return tw.Flush()
}

func rotationShow(ctx context.Context, e env, name string, args []string) error {
	fs := newFlags("rotation show", e)
	shifts := fs.Int("shifts", 10, "how many upcoming shifts to list")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	if _, err := parseAll(fs, args); err != nil {
		return err
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	path := "/api/v1/rotations/" + url.PathEscape(name) + "?shifts=" + strconv.Itoa(*shifts)
	if *asJSON {
		return c.show(ctx, e.stdout, path)
	}
	var out rotationJSON
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return err
	}
	printRotation(e.stdout, out)
	warn(e, out.Warnings)
	return nil
}

func rotationMembers(ctx context.Context, e env, name string, args []string) error {
	fs := newFlags("rotation members", e)
	add := fs.String("add", "", "comma-separated handles to append")
	remove := fs.String("remove", "", "comma-separated handles to remove")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	var out rotationJSON
	path := "/api/v1/rotations/" + url.PathEscape(name) + "/members"
	switch {
	case len(pos) == 1 && *add == "" && *remove == "":
		err = c.do(ctx, http.MethodPut, path, map[string]any{"members": splitList(pos[0])}, &out)
	case len(pos) == 0 && (*add != "" || *remove != ""):
		err = c.do(ctx, http.MethodPatch, path, map[string]any{"add": splitList(*add), "remove": splitList(*remove)}, &out)
	default:
		return usageError{"usage: klaxon rotation members NAME A,B,C | klaxon rotation members NAME [--add D] [--remove B]"}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Members of %s: %s\n%s\n", out.Name, strings.Join(out.Members, ", "), describeOnCall(out.OnCall, locationOf(out.Timezone)))
	warn(e, out.Warnings)
	return nil
}

func rotationSet(ctx context.Context, e env, name string, args []string) error {
	fs := newFlags("rotation set", e)
	reminder := fs.String("reminder", "", "remind the incoming person this long before a shift (0 is off)")
	if _, err := parseAll(fs, args); err != nil {
		return err
	}
	if *reminder == "" {
		return usageError{"usage: klaxon rotation set NAME --reminder 30m"}
	}
	m, err := parseReminder(*reminder)
	if err != nil {
		return err
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	var out rotationJSON
	if err := c.do(ctx, http.MethodPatch, "/api/v1/rotations/"+url.PathEscape(name), map[string]any{"reminder_minutes": m}, &out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Reminder for %s: %d minutes before each shift.\n", out.Name, out.ReminderMinutes)
	warn(e, out.Warnings)
	return nil
}

// rotationSimple runs a call whose answer needs no more than one line.
func rotationSimple(ctx context.Context, e env, method, name, suffix string, args []string, done string) error {
	if len(args) != 0 {
		return usageError{rotationUsage}
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	if err := c.do(ctx, method, "/api/v1/rotations/"+url.PathEscape(name)+suffix, nil, nil); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, done)
	return nil
}

func rotationCalendar(ctx context.Context, e env, name string, args []string) error {
	fs := newFlags("rotation calendar", e)
	weeks := fs.Int("weeks", 8, "how many weeks ahead")
	if _, err := parseAll(fs, args); err != nil {
		return err
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/rotations/"+url.PathEscape(name)+".ics?weeks="+strconv.Itoa(*weeks), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the Klaxon API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Let the JSON error path say what went wrong.
		return c.do(ctx, http.MethodGet, "/api/v1/rotations/"+url.PathEscape(name)+".ics?weeks="+strconv.Itoa(*weeks), nil, nil)
	}
	_, err = io.Copy(e.stdout, resp.Body)
	return err
}

// runOverride is `klaxon rotation override add|list|remove`.
func runOverride(ctx context.Context, e env, args []string) error {
	const usage = "usage: klaxon rotation override add NAME --user U --end TIME [--start TIME] | list NAME [--all] | remove NAME ID"
	if len(args) == 0 {
		return usageError{usage}
	}
	sub := args[0]
	name, rest, err := rotationName("override "+sub, args[1:])
	if err != nil {
		return usageError{usage}
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	base := "/api/v1/rotations/" + url.PathEscape(name)
	switch sub {
	case "add":
		fs := newFlags("rotation override add", e)
		user := fs.String("user", "", "handle of who covers (required)")
		start := fs.String("start", "now", "when the cover starts")
		end := fs.String("end", "", "when the cover ends (required)")
		pos, err := parseAll(fs, rest)
		if err != nil {
			return err
		}
		if *user == "" || *end == "" || len(pos) > 0 {
			return usageError{usage}
		}
		var rot rotationJSON
		if err := c.do(ctx, http.MethodGet, base+"?shifts=0", nil, &rot); err != nil {
			return err
		}
		loc, now := locationOf(rot.Timezone), time.Now()
		st, err := parseCLITime(*start, loc, now)
		if err != nil {
			return err
		}
		en, err := parseCLITime(*end, loc, now)
		if err != nil {
			return err
		}
		var out overrideJSON
		req := map[string]string{"user": *user, "start": st.Format(time.RFC3339), "end": en.Format(time.RFC3339)}
		if err := c.do(ctx, http.MethodPost, base+"/overrides", req, &out); err != nil {
			return err
		}
		s := fmt.Sprintf("Override %d: %s covers %s from %s to %s", out.ID, out.User, name,
			out.Start.In(loc).Format(rotationTimeLayout), out.End.In(loc).Format(rotationTimeLayout))
		if len(out.Covers) > 0 {
			s += " (for " + strings.Join(out.Covers, ", ") + ")"
		}
		fmt.Fprintln(e.stdout, s+".")
		warn(e, out.Warnings)
		return nil
	case "list":
		fs := newFlags("rotation override list", e)
		all := fs.Bool("all", false, "include overrides that are over")
		if _, err := parseAll(fs, rest); err != nil {
			return err
		}
		path := base + "/overrides"
		if *all {
			path += "?all=true"
		}
		var out struct {
			Overrides []overrideJSON `json:"overrides"`
		}
		if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
			return err
		}
		if len(out.Overrides) == 0 {
			fmt.Fprintf(e.stdout, "No overrides for %s.\n", name)
			return nil
		}
		var rot rotationJSON
		if err := c.do(ctx, http.MethodGet, base+"?shifts=0", nil, &rot); err != nil {
			return err
		}
		loc := locationOf(rot.Timezone)
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tFROM\tTO")
		for _, o := range out.Overrides {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", o.ID, o.User, o.Start.In(loc).Format(rotationTimeLayout), o.End.In(loc).Format(rotationTimeLayout))
		}
		return tw.Flush()
	case "remove", "delete":
		if len(rest) != 1 {
			return usageError{usage}
		}
		id, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil {
			return usageError{fmt.Sprintf("override id %q is not a number", rest[0])}
		}
		var out overrideJSON
		if err := c.do(ctx, http.MethodDelete, base+"/overrides/"+strconv.FormatInt(id, 10), nil, &out); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Removed override %d (%s).\n", out.ID, out.User)
		warn(e, out.Warnings)
		return nil
	default:
		return usageError{usage}
	}
}

// runOnCall is `klaxon oncall NAME [--at TIME] [--json]`: who is on call.
func runOnCall(ctx context.Context, e env, args []string) error {
	fs := newFlags("oncall", e)
	at := fs.String("at", "", "ask about another time (RFC 3339, +2h, 2026-03-02 09:00)")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseAll(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{"usage: klaxon oncall NAME [--at TIME] [--json]"}
	}
	name := pos[0]
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	path := "/api/v1/rotations/" + url.PathEscape(name) + "/oncall"
	var loc *time.Location = time.UTC
	if *at != "" {
		var rot rotationJSON
		if err := c.do(ctx, http.MethodGet, "/api/v1/rotations/"+url.PathEscape(name)+"?shifts=0", nil, &rot); err != nil {
			return err
		}
		loc = locationOf(rot.Timezone)
		t, err := parseCLITime(*at, loc, time.Now())
		if err != nil {
			return err
		}
		path += "?at=" + url.QueryEscape(t.Format(time.RFC3339))
	}
	if *asJSON {
		return c.show(ctx, e.stdout, path)
	}
	var oc onCallJSON
	if err := c.do(ctx, http.MethodGet, path, nil, &oc); err != nil {
		return err
	}
	if oc.Timezone != "" {
		loc = locationOf(oc.Timezone)
	}
	fmt.Fprintln(e.stdout, describeOnCall(oc, loc))
	return nil
}
