package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// rotationRoutes adds the rotation API to the /api/v1 router. The calendar
// route comes before "/rotations/{name}", which would otherwise take
// "ops.ics" for a name.
func (g *Gateway) rotationRoutes(api *mux.Router) {
	api.HandleFunc("/rotations", g.createRotation).Methods(http.MethodPost)
	api.HandleFunc("/rotations", g.listRotations).Methods(http.MethodGet)
	api.HandleFunc("/rotations/{name}.ics", g.rotationCalendar).Methods(http.MethodGet)
	api.HandleFunc("/rotations/{name}", g.getRotation).Methods(http.MethodGet)
	api.HandleFunc("/rotations/{name}", g.updateRotation).Methods(http.MethodPatch)
	api.HandleFunc("/rotations/{name}", g.deleteRotation).Methods(http.MethodDelete)
	api.HandleFunc("/rotations/{name}/members", g.setRotationMembers).Methods(http.MethodPut)
	api.HandleFunc("/rotations/{name}/members", g.editRotationMembers).Methods(http.MethodPatch)
	api.HandleFunc("/rotations/{name}/oncall", g.rotationOnCall).Methods(http.MethodGet)
	api.HandleFunc("/rotations/{name}/overrides", g.addOverride).Methods(http.MethodPost)
	api.HandleFunc("/rotations/{name}/overrides", g.listOverrides).Methods(http.MethodGet)
	api.HandleFunc("/rotations/{name}/overrides/{id}", g.deleteOverride).Methods(http.MethodDelete)
	api.HandleFunc("/rotations/{name}/replan", g.replanRotationRequest).Methods(http.MethodPost)
}

func (g *Gateway) createRotation(w http.ResponseWriter, r *http.Request) {
	var req api.CreateRotationRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	nr, err := g.newRotation(req)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	ctx := r.Context()
	rot, err := g.Store.CreateRotation(ctx, nr)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	view, err := g.rotationView(ctx, rot.Name, g.Clock.Now(), 0)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	// Nobody has been told anything yet: whoever is on call now hears it.
	nobody := ""
	view.Warnings = append(view.Warnings, g.startRotation(ctx, rot.Name, "created", &nobody)...)
	writeJSON(w, http.StatusCreated, view)
}

// newRotation checks a create request and turns it into a store.NewRotation.
func (g *Gateway) newRotation(req api.CreateRotationRequest) (store.NewRotation, error) {
	nr := store.NewRotation{Name: strings.TrimSpace(req.Name), Reminder: store.DefaultReminder}
	if err := store.CheckRotationName(nr.Name); err != nil {
		return nr, err
	}
	nr.Spec.Timezone = strings.TrimSpace(req.Timezone)
	members, err := rotationHandles(req.Members, "members")
	if err != nil {
		return nr, err
	}
	nr.Spec.Members = members
	if nr.Spec.ShiftHours, err = rotationShiftHours(req); err != nil {
		return nr, err
	}
	nr.Spec.Start = g.Clock.Now().Truncate(time.Minute)
	if s := strings.TrimSpace(req.Start); s != "" {
		if nr.Spec.Start, err = parseRotationTime("start", s); err != nil {
			return nr, err
		}
	}
	if s := strings.TrimSpace(req.HandoffTime); s != "" {
		at, err := oncall.ParseTimeOfDay(s)
		if err != nil {
			return nr, err
		}
		nr.Spec.HandoffTime = &at
	}
	if s := strings.TrimSpace(req.HandoffWeekday); s != "" {
		d, err := oncall.ParseWeekday(s)
		if err != nil {
			return nr, err
		}
		nr.Spec.HandoffWeekday = &d
	}
	if req.ReminderMinutes != nil {
		if nr.Reminder, err = reminderOf(*req.ReminderMinutes); err != nil {
			return nr, err
		}
	}
	return nr, nil
}

// rotationShiftHours reads the one shift length of a create request.
func rotationShiftHours(req api.CreateRotationRequest) (int, error) {
	type unit struct {
		field string
		v     *int
		hours int
	}
	var given []unit
	for _, u := range []unit{{"shift_hours", req.ShiftHours, 1}, {"shift_days", req.ShiftDays, 24}, {"shift_weeks", req.ShiftWeeks, 7 * 24}} {
		if u.v != nil {
			given = append(given, u)
		}
	}
	switch len(given) {
	case 0:
		return 0, klaxon.Errorf(klaxon.EInvalid, `Say how long a shift is with one of "shift_hours", "shift_days" or "shift_weeks".`)
	case 1:
	default:
		return 0, klaxon.Errorf(klaxon.EInvalid, `Give the shift length once: one of "shift_hours", "shift_days" or "shift_weeks".`)
	}
	u := given[0]
	if *u.v <= 0 {
		return 0, klaxon.Errorf(klaxon.EInvalid, "Field %q must be a positive whole number; a shift cannot be %d long.", u.field, *u.v)
	}
	if *u.v > oncall.MaxShiftHours/u.hours {
		return 0, klaxon.Errorf(klaxon.EInvalid, "A shift can last at most a year; %q is %d.", u.field, *u.v)
	}
	return *u.v * u.hours, nil
}

// reminderOf turns reminder_minutes into a duration, refusing nonsense.
func reminderOf(minutes int) (time.Duration, error) {
	if minutes < 0 || minutes > int(store.MaxReminder/time.Minute) {
		return 0, klaxon.Errorf(klaxon.EInvalid, `Field "reminder_minutes" must be between 0 (no reminder) and %d (a week).`, int(store.MaxReminder/time.Minute))
	}
	return time.Duration(minutes) * time.Minute, nil
}

// rotationHandles trims a list of handles (a leading "@" is allowed) and
// refuses an empty one.
func rotationHandles(in []string, field string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, h := range in {
		h = strings.TrimPrefix(strings.TrimSpace(h), "@")
		if h == "" {
			return nil, klaxon.Errorf(klaxon.EInvalid, "Field %q must not hold an empty handle.", field)
		}
		out = append(out, h)
	}
	return out, nil
}

// parseRotationTime reads an RFC 3339 time.
func parseRotationTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return t, klaxon.Errorf(klaxon.EInvalid, "Field %q must be an RFC 3339 time such as \"2026-03-02T09:00:00+01:00\"; got %q.", field, truncate(s, 40))
	}
	return t, nil
}

// rotationView builds the view of one rotation at instant now, with the
// next shifts when upcoming > 0.
func (g *Gateway) rotationView(ctx context.Context, name string, now time.Time, upcoming int) (api.Rotation, error) {
	rs, err := g.Store.RotationSchedule(ctx, name, now)
	if err != nil {
		return api.Rotation{}, err
	}
	v := g.rotationViewOf(rs, now)
	if upcoming > 0 {
		v.Upcoming = []api.Shift{}
		for _, s := range rs.Schedule.Segments(now, now.AddDate(1, 0, 0), upcoming) {
			v.Upcoming = append(v.Upcoming, shiftViewOf(s, rs.Schedule.Location))
		}
	}
	unreachable, err := g.Store.Unreachable(ctx, rs.Rotation.Handles())
	if err != nil {
		return v, err
	}
	for _, h := range unreachable {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%s has no verified contact method: Klaxon can neither page them nor tell them about their shifts.", h))
	}
	return v, nil
}

func (g *Gateway) rotationViewOf(rs store.RotationSchedule, now time.Time) api.Rotation {
	rot, sched := rs.Rotation, rs.Schedule
	loc := sched.Location
	v := api.Rotation{
		Name: rot.Name, Timezone: rot.Timezone, ShiftHours: rot.ShiftHours, Shift: oncall.ShiftString(rot.ShiftHours),
		HandoffTime: sched.HandoffTime().String(), Start: rot.Start.In(loc),
		ReminderMinutes: int(rot.Reminder / time.Minute), Members: rot.Handles(),
		OnCall: onCallViewOf(rs.OnCall(now), now, loc),
	}
	if d, ok := sched.HandoffWeekday(); ok {
		v.HandoffWeekday = strings.ToLower(d.String())
	}
	return v
}

func onCallViewOf(oc store.OnCall, at time.Time, loc *time.Location) api.OnCall {
	v := api.OnCall{Rotation: oc.Rotation, Timezone: loc.String(), OverrideID: oc.OverrideID, At: at.In(loc).Truncate(time.Second)}
	if oc.User != "" {
		v.User = &oc.User
	}
	if oc.ScheduledUser != "" {
		v.ScheduledUser = &oc.ScheduledUser
	}
	if !oc.Until.IsZero() {
		u := oc.Until.In(loc)
		v.Until = &u
	}
	return v
}

func shiftViewOf(s oncall.Segment, loc *time.Location) api.Shift {
	v := api.Shift{User: s.User, OverrideID: s.Override, Start: s.Start.In(loc)}
	if s.Scheduled != s.User {
		v.ScheduledUser = s.Scheduled
	}
	if !s.End.IsZero() {
		e := s.End.In(loc)
		v.End = &e
	}
	return v
}

func (g *Gateway) listRotations(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rots, err := g.Store.Rotations(ctx)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	now := g.Clock.Now()
	views := make([]api.Rotation, 0, len(rots))
	for _, rot := range rots {
		rs, err := g.Store.RotationSchedule(ctx, rot.Name, now)
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			continue // deleted meanwhile
		}
		if err != nil {
			writeError(w, r, g.Logger, err)
			return
		}
		views = append(views, g.rotationViewOf(rs, now))
	}
	writeJSON(w, http.StatusOK, api.RotationList{Rotations: views})
}

func (g *Gateway) getRotation(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	n, err := rotationQueryInt(r, "shifts", 10, 0, 200)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	name := mux.Vars(r)["name"]
	view, err := g.rotationView(ctx, name, g.Clock.Now(), n)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	view.Handoffs = g.handoffsOf(ctx, name)
	writeJSON(w, http.StatusOK, view)
}

// handoffsOf asks the rotation's workflow for its state; a Temporal that
// does not answer is reported, not an error.
func (g *Gateway) handoffsOf(ctx context.Context, name string) *api.Handoffs {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	id := workflows.RotationWorkflowID(g.Config.TaskQueue, name)
	v := &api.Handoffs{WorkflowID: id, Status: "unknown"}
	d, err := g.Temporal.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			v.Status = "not running"
		}
		return v
	}
	if d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		v.Status = "not running"
		return v
	}
	v.Status = "running"
	if q, err := g.Temporal.QueryWorkflow(ctx, id, "", workflows.QueryState); err == nil {
		var st workflows.RotationState
		if q.Get(&st) == nil {
			v.State = handoffsStateOf(st)
		}
	}
	return v
}

func (g *Gateway) updateRotation(w http.ResponseWriter, r *http.Request) {
	var req api.UpdateRotationRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if req.ReminderMinutes == nil {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, `Nothing to change: send "reminder_minutes". To change members use PUT or PATCH on /members; to change the shifts, create a new rotation.`))
		return
	}
	d, err := reminderOf(*req.ReminderMinutes)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	name := mux.Vars(r)["name"]
	if _, err := g.Store.UpdateRotation(r.Context(), name, store.RotationSettings{Reminder: &d}); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	g.answerRotation(w, r, name, "settings", http.StatusOK)
}

// answerRotation re-plans the rotation's handoffs and answers with its view.
func (g *Gateway) answerRotation(w http.ResponseWriter, r *http.Request, name, reason string, status int) {
	ctx := r.Context()
	view, err := g.rotationView(ctx, name, g.Clock.Now(), 0)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	view.Warnings = append(view.Warnings, g.replanRotation(ctx, name, reason)...)
	writeJSON(w, status, view)
}

func (g *Gateway) deleteRotation(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	ctx := r.Context()
	if err := g.Store.DeleteRotation(ctx, name); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	// The workflow ends at its next plan; the signal only makes it now.
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := g.Temporal.SignalWorkflow(sctx, workflows.RotationWorkflowID(g.Config.TaskQueue, name), "", workflows.SignalRotationReplan, workflows.RotationReplan{Reason: "deleted"})
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		g.Logger.WarnContext(ctx, "signal deleted rotation", "rotation", name, "error", err)
	}
	writeJSON(w, http.StatusOK, api.RotationDeleted{Deleted: name})
}

func (g *Gateway) setRotationMembers(w http.ResponseWriter, r *http.Request) {
	var req api.MembersRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	members, err := rotationHandles(req.Members, "members")
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	name := mux.Vars(r)["name"]
	if _, err := g.Store.SetRotationMembers(r.Context(), name, members, g.Clock.Now()); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	g.answerRotation(w, r, name, "members", http.StatusOK)
}

func (g *Gateway) editRotationMembers(w http.ResponseWriter, r *http.Request) {
	var req api.MembersRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	add, err := rotationHandles(req.Add, "add")
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	remove, err := rotationHandles(req.Remove, "remove")
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if len(add)+len(remove) == 0 {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, `Nothing to change: send "add" and/or "remove" lists of handles (or PUT the whole "members" list).`))
		return
	}
	name := mux.Vars(r)["name"]
	_, err = g.Store.EditRotationMembers(r.Context(), name, g.Clock.Now(), func(cur []string) ([]string, error) {
		return editRotationMemberList(name, cur, add, remove)
	})
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	g.answerRotation(w, r, name, "members", http.StatusOK)
}

// editRotationMemberList removes and then appends handles, refusing to remove a
// non-member or add a member twice.
func editRotationMemberList(rotation string, cur, add, remove []string) ([]string, error) {
	drop := map[string]bool{}
	for _, h := range remove {
		found := false
		for _, m := range cur {
			found = found || m == h
		}
		if !found {
			return nil, klaxon.Errorf(klaxon.EInvalid, "%s is not a member of %s.", truncate(h, 40), rotation)
		}
		drop[h] = true
	}
	out := make([]string, 0, len(cur)+len(add))
	for _, m := range cur {
		if !drop[m] {
			out = append(out, m)
		}
	}
	for _, h := range add {
		for _, m := range out {
			if m == h {
				return nil, klaxon.Errorf(klaxon.EInvalid, "%s is already a member of %s.", truncate(h, 40), rotation)
			}
		}
		out = append(out, h)
	}
	return out, nil
}

func (g *Gateway) rotationOnCall(w http.ResponseWriter, r *http.Request) {
	at := g.Clock.Now()
	if s := r.URL.Query().Get("at"); s != "" {
		var err error
		if at, err = parseRotationTime("at", s); err != nil {
			writeError(w, r, g.Logger, err)
			return
		}
	}
	rs, err := g.Store.RotationSchedule(r.Context(), mux.Vars(r)["name"], at)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, onCallViewOf(rs.OnCall(at), at, rs.Schedule.Location))
}

func (g *Gateway) addOverride(w http.ResponseWriter, r *http.Request) {
	var req api.OverrideRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	now := g.Clock.Now()
	no := store.NewOverride{User: strings.TrimPrefix(strings.TrimSpace(req.User), "@"), Start: now}
	if no.User == "" {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, `Field "user" is required: the handle of who covers.`))
		return
	}
	var err error
	if strings.TrimSpace(req.Start) != "" {
		if no.Start, err = parseRotationTime("start", req.Start); err != nil {
			writeError(w, r, g.Logger, err)
			return
		}
	}
	if strings.TrimSpace(req.End) == "" {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, `Field "end" is required: when the cover ends (RFC 3339).`))
		return
	}
	if no.End, err = parseRotationTime("end", req.End); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	ctx := r.Context()
	name := mux.Vars(r)["name"]
	o, err := g.Store.AddOverride(ctx, name, no, now)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	v := overrideOf(o)
	if rs, err := g.Store.RotationSchedule(ctx, name, o.Start); err == nil {
		seen := map[string]bool{}
		for _, s := range rs.Schedule.Segments(o.Start, o.End, 1000) {
			if s.Override == o.ID && s.Scheduled != "" && !seen[s.Scheduled] {
				seen[s.Scheduled] = true
				v.Covers = append(v.Covers, s.Scheduled)
			}
		}
		localize(&v, rs.Schedule.Location)
	}
	if un, err := g.Store.Unreachable(ctx, []string{o.User}); err == nil && len(un) > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%s has no verified contact method: Klaxon can neither page them nor tell them about this cover.", o.User))
	}
	v.Warnings = append(v.Warnings, g.replanRotation(ctx, name, "override")...)
	writeJSON(w, http.StatusCreated, v)
}

func localize(v *api.Override, loc *time.Location) {
	v.Start, v.End = v.Start.In(loc), v.End.In(loc)
}

func (g *Gateway) listOverrides(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := mux.Vars(r)["name"]
	from := g.Clock.Now()
	if all, _ := strconv.ParseBool(r.URL.Query().Get("all")); all {
		from = time.Time{}
	}
	ovs, err := g.Store.Overrides(ctx, name, from)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	var loc *time.Location
	if rot, err := g.Store.Rotation(ctx, name); err == nil {
		loc, _ = oncall.LoadLocation(rot.Timezone)
	}
	out := make([]api.Override, len(ovs))
	for i, o := range ovs {
		out[i] = overrideOf(o)
		if loc != nil {
			localize(&out[i], loc)
		}
	}
	writeJSON(w, http.StatusOK, api.OverrideList{Overrides: out})
}

func (g *Gateway) deleteOverride(w http.ResponseWriter, r *http.Request) {
	vars := mux.Vars(r)
	id, err := strconv.ParseInt(vars["id"], 10, 64)
	if err != nil || id <= 0 {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.ENotFound, "No override %q: override ids are numbers.", truncate(vars["id"], 20)))
		return
	}
	ctx := r.Context()
	o, err := g.Store.DeleteOverride(ctx, vars["name"], id)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	v := overrideOf(o)
	v.Warnings = g.replanRotation(ctx, vars["name"], "override removed")
	writeJSON(w, http.StatusOK, v)
}

// replanRotationRequest is POST /api/v1/rotations/{name}/replan: it (re)starts
// the rotation's handoff workflow, e.g. after Temporal was unavailable when
// the rotation was edited.
func (g *Gateway) replanRotationRequest(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if _, err := g.Store.Rotation(r.Context(), name); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if warn := g.replanRotation(r.Context(), name, "requested"); len(warn) > 0 {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable, "%s", warn[0]))
		return
	}
	writeJSON(w, http.StatusAccepted, api.Replanned{WorkflowID: workflows.RotationWorkflowID(g.Config.TaskQueue, name)})
}

// replanRotation tells the rotation's handoff workflow that the rotation
// changed, starting it if it is not running. The database already holds
// the change; when Temporal does not answer, a warning says so, rather than
// an error that would suggest nothing was saved.
func (g *Gateway) replanRotation(ctx context.Context, name, reason string) []string {
	return g.startRotation(ctx, name, reason, nil)
}

// startRotation signals the rotation's workflow, or starts it from this
// instant (so a worker that picks it up late still announces the handoffs
// since) with announced as the person last told they are on call (nil:
// unknown).
func (g *Gateway) startRotation(ctx context.Context, name, reason string, announced *string) []string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := g.start.ReplanRotation(ctx, workflows.RotationReplan{Reason: reason},
		workflows.RotationInput{Rotation: name, After: g.Clock.Now(), Announced: announced})
	if err != nil {
		g.Logger.WarnContext(ctx, "rotation handoffs not re-planned", "rotation", name, "error", err)
		return []string{fmt.Sprintf("Saved, but the handoff notifications could not be re-planned because the workflow engine did not answer; run `klaxon rotation replan %s` (POST /api/v1/rotations/%s/replan) once it is back.", name, name)}
	}
	return nil
}

// rotationQueryInt reads an integer query parameter within [min, max].
func rotationQueryInt(r *http.Request, key string, def, min, max int) (int, error) {
	s := r.URL.Query().Get(key)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, klaxon.Errorf(klaxon.EInvalid, "Query parameter %q must be a whole number from %d to %d.", key, min, max)
	}
	return n, nil
}
