package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/api"
)

// rotationTimeHelp says how the CLI reads times.
const rotationTimeHelp = `TIME is RFC 3339 ("2026-03-02T09:00:00+01:00"), "now", "+2h30m" from now, or "2026-03-02 09:00" in the rotation's timezone.`

// rotationTimeLayout is how the CLI shows instants: in the rotation's zone.
const rotationTimeLayout = "Mon 2 Jan 2006 15:04 MST"

// rotationCmd is `klaxon rotation …`: on-call rotations over the REST API.
type rotationCmd struct {
	Add      rotationAddCmd      `cmd:"" aliases:"create" help:"Add a rotation. ${rotation_time}"`
	List     rotationListCmd     `cmd:"" help:"List the rotations and who is on call."`
	Show     rotationShowCmd     `cmd:"" help:"Show a rotation: its settings, who is on call, the next shifts and its handoffs."`
	Members  rotationMembersCmd  `cmd:"" help:"Replace the members (NAME A,B,C, in order) or edit them (--add D --remove B)."`
	Set      rotationSetCmd      `cmd:"" help:"Change a rotation's settings."`
	Override rotationOverrideCmd `cmd:"" help:"Overrides: someone covers the rotation for a while."`
	Calendar rotationCalendarCmd `cmd:"" help:"The next weeks of shifts as iCalendar, on stdout."`
	Replan   rotationReplanCmd   `cmd:"" help:"(Re)start the rotation's handoff workflow."`
	Delete   rotationDeleteCmd   `cmd:"" aliases:"remove" help:"Delete a rotation."`
}

type rotationAddCmd struct {
	Name           string `arg:""`
	Timezone       string `required:"" placeholder:"TZ" help:"IANA timezone of the handoffs, e.g. Europe/Berlin."`
	Members        string `required:"" placeholder:"A,B,C" help:"Comma-separated handles, in order."`
	Shift          string `required:"" placeholder:"1w|3d|12h" help:"Shift length."`
	Start          string `placeholder:"TIME" help:"When the first member's first shift begins (default now)."`
	HandoffTime    string `name:"handoff-time" placeholder:"09:00" help:"Local time of day of every handoff."`
	HandoffWeekday string `name:"handoff-weekday" placeholder:"mon" help:"Weekday of every handoff (weekly shifts)."`
	Reminder       string `placeholder:"1h|0" help:"Remind the incoming person this long before a shift (default 1h; 0 is off)."`
}

func (c *rotationAddCmd) Run(e *cmdEnv) error {
	req := api.CreateRotationRequest{Name: c.Name, Timezone: c.Timezone, Members: splitList(c.Members),
		HandoffTime: c.HandoffTime, HandoffWeekday: c.HandoffWeekday}
	unit, n, err := parseShift(c.Shift)
	if err != nil {
		return err
	}
	switch unit {
	case "w":
		req.ShiftWeeks = &n
	case "d":
		req.ShiftDays = &n
	default:
		req.ShiftHours = &n
	}
	if c.Start != "" {
		t, err := parseCLITime(c.Start, locationOf(c.Timezone), time.Now())
		if err != nil {
			return err
		}
		req.Start = t.Format(time.RFC3339)
	}
	if c.Reminder != "" {
		m, err := parseReminder(c.Reminder)
		if err != nil {
			return err
		}
		req.ReminderMinutes = &m
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.CreateRotation(e.ctx, req)
	if err != nil {
		return err
	}
	printRotation(e.stdout, out)
	warn(e, out.Warnings)
	return nil
}

// parseShift reads "1w", "3d", "12h" (or a bare number of hours) as its
// unit ("w", "d" or "h") and count.
func parseShift(s string) (string, int, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	unit := "h"
	switch {
	case strings.HasSuffix(s, "w"):
		unit, s = "w", strings.TrimSuffix(s, "w")
	case strings.HasSuffix(s, "d"):
		unit, s = "d", strings.TrimSuffix(s, "d")
	case strings.HasSuffix(s, "h"):
		s = strings.TrimSuffix(s, "h")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return "", 0, usageError{fmt.Sprintf("--shift %q: write a length such as 1w, 2d or 12h", s)}
	}
	return unit, n, nil
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

func warn(e *cmdEnv, warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(e.stderr, "warning: "+w)
	}
}

// describeOnCall says who is on call in one line.
func describeOnCall(oc api.OnCall, loc *time.Location) string {
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

// locationOf loads a timezone, falling back to UTC (the API names a bad
// timezone itself).
func locationOf(tz string) *time.Location {
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

func printRotation(w io.Writer, r api.Rotation) {
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
		reminder = humanDuration(time.Duration(r.ReminderMinutes)*time.Minute) + " before each shift"
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

type rotationListCmd struct{}

func (c *rotationListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	rots, err := cl.Rotations(e.ctx)
	if err != nil {
		return err
	}
	if len(rots) == 0 {
		fmt.Fprintln(e.stdout, "No rotations yet; create one with `klaxon rotation add`.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTIMEZONE\tSHIFT\tMEMBERS\tON CALL\tUNTIL")
	for _, r := range rots {
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

type rotationShowCmd struct {
	Name   string `arg:""`
	Shifts int    `default:"10" help:"How many upcoming shifts to list."`
	jsonFlag
}

func (c *rotationShowCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	r, err := cl.Rotation(e.ctx, c.Name, c.Shifts)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, r)
	}
	printRotation(e.stdout, r)
	warn(e, r.Warnings)
	return nil
}

type rotationMembersCmd struct {
	Name    string `arg:""`
	Members string `arg:"" optional:"" placeholder:"A,B,C" help:"The new members, in order."`
	Add     string `placeholder:"D,E" help:"Comma-separated handles to append."`
	Remove  string `placeholder:"B" help:"Comma-separated handles to remove."`
}

func (c *rotationMembersCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	var out api.Rotation
	switch {
	case c.Members != "" && c.Add == "" && c.Remove == "":
		out, err = cl.SetMembers(e.ctx, c.Name, splitList(c.Members))
	case c.Members == "" && (c.Add != "" || c.Remove != ""):
		out, err = cl.EditMembers(e.ctx, c.Name, splitList(c.Add), splitList(c.Remove))
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

type rotationSetCmd struct {
	Name     string `arg:""`
	Reminder string `required:"" placeholder:"30m|0" help:"Remind the incoming person this long before a shift (0 is off)."`
}

func (c *rotationSetCmd) Run(e *cmdEnv) error {
	m, err := parseReminder(c.Reminder)
	if err != nil {
		return err
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.UpdateRotation(e.ctx, c.Name, api.UpdateRotationRequest{ReminderMinutes: &m})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Reminder for %s: %d minutes before each shift.\n", out.Name, out.ReminderMinutes)
	warn(e, out.Warnings)
	return nil
}

type rotationCalendarCmd struct {
	Name  string `arg:""`
	Weeks int    `default:"8" help:"How many weeks ahead."`
}

func (c *rotationCalendarCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	return cl.Calendar(e.ctx, c.Name, c.Weeks, e.stdout)
}

type rotationReplanCmd struct {
	Name string `arg:""`
}

func (c *rotationReplanCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	if _, err := cl.Replan(e.ctx, c.Name); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "handoffs re-planned for "+c.Name)
	return nil
}

type rotationDeleteCmd struct {
	Name string `arg:""`
}

func (c *rotationDeleteCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	if err := cl.DeleteRotation(e.ctx, c.Name); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "deleted rotation "+c.Name)
	return nil
}

// rotationOverrideCmd is `klaxon rotation override add|list|remove`.
type rotationOverrideCmd struct {
	Add    overrideAddCmd    `cmd:"" help:"Have someone cover the rotation from --start to --end. ${rotation_time}"`
	List   overrideListCmd   `cmd:"" help:"List the rotation's overrides that are not over yet."`
	Remove overrideRemoveCmd `cmd:"" aliases:"delete" help:"Remove an override."`
}

type overrideAddCmd struct {
	Name  string `arg:""`
	User  string `required:"" placeholder:"HANDLE" help:"Who covers."`
	Start string `default:"now" placeholder:"TIME" help:"When the cover starts."`
	End   string `required:"" placeholder:"TIME" help:"When the cover ends."`
}

func (c *overrideAddCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	rot, err := cl.Rotation(e.ctx, c.Name, 0)
	if err != nil {
		return err
	}
	loc, now := locationOf(rot.Timezone), time.Now()
	st, err := parseCLITime(c.Start, loc, now)
	if err != nil {
		return err
	}
	en, err := parseCLITime(c.End, loc, now)
	if err != nil {
		return err
	}
	out, err := cl.AddOverride(e.ctx, c.Name, api.OverrideRequest{User: c.User, Start: st.Format(time.RFC3339), End: en.Format(time.RFC3339)})
	if err != nil {
		return err
	}
	s := fmt.Sprintf("Override %d: %s covers %s from %s to %s", out.ID, out.User, c.Name,
		out.Start.In(loc).Format(rotationTimeLayout), out.End.In(loc).Format(rotationTimeLayout))
	if len(out.Covers) > 0 {
		s += " (for " + strings.Join(out.Covers, ", ") + ")"
	}
	fmt.Fprintln(e.stdout, s+".")
	warn(e, out.Warnings)
	return nil
}

type overrideListCmd struct {
	Name string `arg:""`
	All  bool   `help:"Include overrides that are over."`
}

func (c *overrideListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	ovs, err := cl.Overrides(e.ctx, c.Name, c.All)
	if err != nil {
		return err
	}
	if len(ovs) == 0 {
		fmt.Fprintf(e.stdout, "No overrides for %s.\n", c.Name)
		return nil
	}
	rot, err := cl.Rotation(e.ctx, c.Name, 0)
	if err != nil {
		return err
	}
	loc := locationOf(rot.Timezone)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tFROM\tTO")
	for _, o := range ovs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", o.ID, o.User, o.Start.In(loc).Format(rotationTimeLayout), o.End.In(loc).Format(rotationTimeLayout))
	}
	return tw.Flush()
}

// overrideID is an override's id on the command line.
type overrideID int64

// UnmarshalText refuses anything but a number, in one sentence.
func (id *overrideID) UnmarshalText(b []byte) error {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("override id %q is not a number", string(b))
	}
	*id = overrideID(n)
	return nil
}

type overrideRemoveCmd struct {
	Name string     `arg:""`
	ID   overrideID `arg:""`
}

func (c *overrideRemoveCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.RemoveOverride(e.ctx, c.Name, int64(c.ID))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Removed override %d (%s).\n", out.ID, out.User)
	warn(e, out.Warnings)
	return nil
}

// onCallCmd is `klaxon oncall NAME [--at TIME] [--json]`: who is on call.
type onCallCmd struct {
	Name string `arg:"" help:"The rotation."`
	At   string `placeholder:"TIME" help:"Ask about another time. ${rotation_time}"`
	jsonFlag
}

func (c *onCallCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	var at time.Time
	if c.At != "" {
		rot, err := cl.Rotation(e.ctx, c.Name, 0)
		if err != nil {
			return err
		}
		if at, err = parseCLITime(c.At, locationOf(rot.Timezone), time.Now()); err != nil {
			return err
		}
	}
	oc, err := cl.OnCall(e.ctx, c.Name, at)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, oc)
	}
	loc := time.UTC
	if oc.Timezone != "" {
		loc = locationOf(oc.Timezone)
	}
	fmt.Fprintln(e.stdout, describeOnCall(oc, loc))
	return nil
}
