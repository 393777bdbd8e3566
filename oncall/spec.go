package oncall

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon"
)

// Spec is a new rotation as a person describes it.
type Spec struct {
	// Timezone is an IANA name such as "Europe/Berlin".
	Timezone string
	// ShiftHours is the shift length in hours (24 per day, 168 per week).
	ShiftHours int
	// Start is when the first member's first shift begins.
	Start time.Time
	// HandoffTime, if set, is the local time of day of every handoff; the
	// first shift then runs from Start to the first handoff after it.
	HandoffTime *TimeOfDay
	// HandoffWeekday, if set, is the weekday of every handoff; it needs a
	// shift of whole weeks.
	HandoffWeekday *time.Weekday
	Members        []string
}

// TimeOfDay is a local wall-clock time, to the minute.
type TimeOfDay struct{ Hour, Minute int }

// String formats t as "HH:MM".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// ParseTimeOfDay reads "HH:MM" (24-hour clock).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return TimeOfDay{}, klaxon.Errorf(klaxon.EInvalid, "%q is not a time of day; write it as HH:MM on a 24-hour clock, e.g. \"09:00\".", s)
	}
	return TimeOfDay{Hour: hh, Minute: mm}, nil
}

// ParseWeekday reads a weekday's English name or its first three letters,
// in any case.
func ParseWeekday(s string) (time.Weekday, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if v == name || (len(v) == 3 && v == name[:3]) {
			return d, nil
		}
	}
	return 0, klaxon.Errorf(klaxon.EInvalid, "%q is not a weekday; use a name such as \"monday\" or \"mon\".", s)
}

// LoadLocation loads an IANA timezone, refusing the empty name and "Local"
// (which would depend on the server's settings).
func LoadLocation(name string) (*time.Location, error) {
	if strings.TrimSpace(name) == "" {
		return nil, klaxon.Errorf(klaxon.EInvalid, `A timezone is required: an IANA name such as "Europe/Berlin" or "UTC".`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		return nil, klaxon.Errorf(klaxon.EInvalid, "%q is not a known timezone; use an IANA name such as \"America/New_York\" or \"UTC\".", truncate(name, 60))
	}
	return loc, nil
}

// New builds the schedule of a new rotation: the first member's first shift
// begins at Start, and handoffs follow the local wall clock — at Start's
// time of day (and weekday), or at HandoffTime and HandoffWeekday when they
// are given.
func New(spec Spec) (*Rotation, error) {
	loc, err := LoadLocation(spec.Timezone)
	if err != nil {
		return nil, err
	}
	if err := checkShiftHours(spec.ShiftHours); err != nil {
		return nil, err
	}
	if err := checkMembers(spec.Members); err != nil {
		return nil, err
	}
	if spec.Start.IsZero() {
		return nil, klaxon.Errorf(klaxon.EInvalid, "The rotation needs a start time.")
	}
	if spec.HandoffWeekday != nil && spec.ShiftHours%(7*24) != 0 {
		return nil, klaxon.Errorf(klaxon.EInvalid, "A handoff weekday needs a shift of whole weeks; this shift is %s.", ShiftString(spec.ShiftHours))
	}
	start := spec.Start.Truncate(time.Second)
	origin := civil(start, loc)
	if spec.HandoffTime != nil || spec.HandoffWeekday != nil {
		// The last aligned handoff at or before Start: the first shift runs
		// from Start to the next one.
		st := civilTime(origin)
		tod := TimeOfDay{Hour: st.Hour(), Minute: st.Minute()}
		if spec.HandoffTime != nil {
			tod = *spec.HandoffTime
		}
		day := time.Date(st.Year(), st.Month(), st.Day(), tod.Hour, tod.Minute, 0, 0, time.UTC)
		if day.After(st) {
			day = day.AddDate(0, 0, -1)
		}
		if spec.HandoffWeekday != nil {
			back := (int(day.Weekday()) - int(*spec.HandoffWeekday) + 7) % 7
			day = day.AddDate(0, 0, -back)
		}
		origin = day.Unix()
	}
	r := &Rotation{
		Location:   loc,
		ShiftHours: spec.ShiftHours,
		Origin:     civilTime(origin),
		Start:      start,
		Members:    append([]string(nil), spec.Members...),
	}
	r.Anchor = Anchor{Member: spec.Members[0], Shift: r.ShiftIndex(start)}
	return r, nil
}

// HandoffTime returns the local time of day of the rotation's handoffs.
func (r *Rotation) HandoffTime() TimeOfDay {
	return TimeOfDay{Hour: r.Origin.Hour(), Minute: r.Origin.Minute()}
}

// HandoffWeekday returns the weekday of the rotation's handoffs, and false
// when its shifts are not whole weeks.
func (r *Rotation) HandoffWeekday() (time.Weekday, bool) {
	if r.ShiftHours%(7*24) != 0 {
		return 0, false
	}
	return r.Origin.Weekday(), true
}

// ShiftString says how long a shift of h hours is: "1 week", "2 days",
// "12 hours".
func ShiftString(h int) string {
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	switch {
	case h > 0 && h%(7*24) == 0:
		return plural(h/(7*24), "week")
	case h > 0 && h%24 == 0:
		return plural(h/24, "day")
	default:
		return plural(h, "hour")
	}
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
