package oncall

import (
	"time"

	// Rotations name IANA timezones; embed the database so that a host
	// without /usr/share/zoneinfo computes the same handoffs.
	_ "time/tzdata"
)

// Wall-clock ("civil") times are handled as seconds since 1970-01-01T00:00
// on the local wall clock, with no zone: adding 24 hours to one always lands
// on the same time of day. A civil time is turned into an instant by
// resolve, which decides the two cases a wall clock makes ambiguous.

// civil returns t's wall-clock time in loc, as civil seconds.
func civil(t time.Time, loc *time.Location) int64 {
	_, off := t.In(loc).Zone()
	return t.Unix() + int64(off)
}

// civilTime returns civil seconds as a time.Time whose UTC fields are the
// wall-clock fields.
func civilTime(c int64) time.Time { return time.Unix(c, 0).UTC() }

// offsetAt returns loc's UTC offset, in seconds, at instant t.
func offsetAt(t time.Time, loc *time.Location) int {
	_, off := t.In(loc).Zone()
	return off
}

// resolve returns the instant at which loc's wall clock shows civil time c.
// A time that occurs twice (the repeated hour when clocks go back) resolves
// to its first occurrence; a time that never occurs (the hour skipped when
// clocks go forward) resolves to the instant of the jump, so a 02:30 handoff
// on that night happens at 03:00. Both rules keep handoffs in order.
func resolve(c int64, loc *time.Location) time.Time {
	ct := civilTime(c)
	g := time.Date(ct.Year(), ct.Month(), ct.Day(), ct.Hour(), ct.Minute(), ct.Second(), 0, loc)
	start, end := g.ZoneBounds()

	var best time.Time
	try := func(off int) {
		x := time.Unix(c-int64(off), 0)
		if offsetAt(x, loc) == off && (best.IsZero() || x.Before(best)) {
			best = x
		}
	}
	_, off := g.Zone()
	try(off)
	if !start.IsZero() {
		// The earlier occurrence of a repeated time is in the zone before.
		try(offsetAt(start.Add(-time.Second), loc))
	}
	if best.IsZero() && !end.IsZero() {
		try(offsetAt(end, loc))
	}
	if !best.IsZero() {
		return best
	}
	// c is in a gap: find the jump whose skipped range holds it.
	for _, tr := range []time.Time{start, end} {
		if tr.IsZero() {
			continue
		}
		before, after := offsetAt(tr.Add(-time.Second), loc), offsetAt(tr, loc)
		if tr.Unix()+int64(before) <= c && c < tr.Unix()+int64(after) {
			return tr
		}
	}
	return g
}

// floorDiv is integer division rounding towards minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// floorMod is the remainder of floorDiv: always in [0, b).
func floorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
