package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/oncall"
)

// calendarDays is how far ahead the shift calendar looks.
const calendarDays = 14

type rotationView struct {
	Name     string
	Timezone string
	Now      string
	Next     string
	Until    time.Time
	Shifts   []oncall.Segment
	Members  []string
	ICS      string
}

// onCall shows each rotation's current and next person, its next two
// weeks of shifts (overrides marked), a form to cover a stretch, and its
// calendar feed.
func (c *Console) onCall(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := c.Clock.Now()
	rots, err := c.Store.Rotations(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var out []rotationView
	for _, rot := range rots {
		rs, err := c.Store.RotationSchedule(ctx, rot.Name, now)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		oc := rs.OnCall(now)
		v := rotationView{Name: rot.Name, Timezone: rot.Timezone, Now: oc.User, Until: oc.Until, Members: rot.Handles(),
			ICS: "/oncall/" + rot.Name + ".ics"}
		v.Shifts = rs.Schedule.Segments(now, now.Add(calendarDays*24*time.Hour), 200)
		if !oc.Until.IsZero() {
			v.Next = rs.OnCall(oc.Until).User
		}
		out = append(out, v)
	}
	c.render(w, r, http.StatusOK, "oncall", view{Title: "On call", Nav: "oncall", Session: sessionOf(r), Data: out})
}

// overrideLayout is how the override form's datetime-local fields arrive.
const overrideLayout = "2006-01-02T15:04"

// addOverride has someone (the signed-in person by default) cover a
// rotation for a stretch: "I'll cover Tuesday".
func (c *Console) addOverride(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	name := mux.Vars(r)["name"]
	handle := strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("user")), "@")
	if handle == "" {
		handle = s.Handle
	}
	if handle == "" {
		c.refuse(w, r, http.StatusBadRequest, "Say who covers: enter a handle.")
		return
	}
	rot, err := c.Store.Rotation(r.Context(), name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	loc, err := oncall.LoadLocation(rot.Timezone)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	start, err1 := time.ParseInLocation(overrideLayout, r.PostFormValue("start"), loc)
	end, err2 := time.ParseInLocation(overrideLayout, r.PostFormValue("end"), loc)
	if err1 != nil || err2 != nil {
		c.refuse(w, r, http.StatusBadRequest, "Give the start and the end as a date and a time, e.g. 2026-12-08T09:00.")
		return
	}
	if err := c.Backend.AddOverride(r.Context(), name, handle, start, end); err != nil {
		if klaxon.ErrorCodeOf(err) == klaxon.EInternal {
			c.fail(w, r, err)
			return
		}
		c.refuse(w, r, statusOf(klaxon.ErrorCodeOf(err)), klaxon.ErrorMessageOf(err))
		return
	}
	c.back(w, r, "/oncall", handle+" covers "+name+" from "+start.Format("Mon 2 Jan 15:04")+" to "+end.Format("Mon 2 Jan 15:04")+".")
}

// calendar is a rotation's .ics export, for the signed-in browser.
func (c *Console) calendar(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	body, err := c.Backend.Calendar(r.Context(), name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.ics"`)
	_, _ = w.Write([]byte(body))
}
