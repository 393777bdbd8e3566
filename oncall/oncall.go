// Package oncall computes who is on call for a rotation at any instant and
// when the next handoffs are: the pure arithmetic of shifts, wall clocks and
// overrides, with no I/O, so that the API, the page workflow and the handoff
// workflow always give the same answer. Who is on call is never stored; it
// is computed from the rotation's definition every time.
//
// Shifts follow the rotation's local wall clock: the k-th handoff is at the
// origin's local time plus k × the shift length of wall-clock time. A 09:00
// handoff stays at 09:00 across daylight-saving changes, and a 24-hour shift
// that spans one lasts 23 or 25 hours. One-hour shifts are the exception:
// they are measured in elapsed time, since a wall-clock hour can vanish.
//
// Who has which shift is fixed by an anchor — member M has shift K — and the
// member list, in order, from there. Editing the members moves the anchor to
// whoever is on call at that moment, so an edit never reshuffles who is on
// call now; only the shifts after the current one follow the new order.
package oncall

import (
	"sort"
	"time"

	"github.com/klaxonhq/klaxon"
)

// MaxShiftHours bounds a shift's length: a year.
const MaxShiftHours = 366 * 24

// Rotation is a rotation's schedule: enough to say who is on call at any
// instant. Build one with New, or fill it from storage and Validate it.
type Rotation struct {
	// Location is the rotation's timezone; handoffs follow its wall clock.
	Location *time.Location
	// ShiftHours is the length of one shift, in wall-clock hours.
	ShiftHours int
	// Origin is the local wall-clock time at which shift 0 begins; its UTC
	// fields are read as wall-clock fields and its zone is ignored. Every
	// handoff is Origin plus a whole number of shifts.
	Origin time.Time
	// Start is when the rotation begins: nobody is scheduled before it.
	Start time.Time
	// Members are who take turns, in order.
	Members []string
	// Anchor says which member has which shift.
	Anchor Anchor
	// Overrides are the covers, sorted by Start and not overlapping.
	Overrides []Override
}

// Anchor fixes the rotation's order in time: Member has shift Shift, the
// next member in Members has shift Shift+1, and so on, round and round.
type Anchor struct {
	Member string
	Shift  int64
}

// Override is a cover: User is on call instead of the rotation from Start
// (inclusive) to End (exclusive).
type Override struct {
	ID    int64
	User  string
	Start time.Time
	End   time.Time
}

// Segment is a stretch of time in which neither the scheduled member nor
// the override changes.
type Segment struct {
	// User is who is on call: the override's user, else Scheduled. Empty
	// when nobody is (before the rotation starts).
	User string
	// Scheduled is who the rotation alone would have on call.
	Scheduled string
	// Override is the id of the override in force, or 0.
	Override int64
	// Start is when the segment begins; zero means it always was.
	Start time.Time
	// End is when it ends; zero means it never does.
	End time.Time

	// overrideEnd is the end of the override in force, if any.
	overrideEnd time.Time
}

// OnCall is who is on call at one instant.
type OnCall struct {
	// User is who is on call after overrides; empty when nobody is.
	User string
	// Scheduled is who would be without overrides.
	Scheduled string
	// Override is the id of the override in force, or 0.
	Override int64
	// Until is the next handoff: when someone else takes over. Zero means
	// no handoff is ahead (a one-member rotation with no overrides to come).
	Until time.Time
	// ShiftStart and ShiftEnd bound the scheduled shift (zero when the
	// rotation has not started; ShiftEnd is zero for a one-member rotation).
	ShiftStart time.Time
	ShiftEnd   time.Time
}

// Handoff is an instant at which the person on call changes.
type Handoff struct {
	At       time.Time
	Outgoing string // empty when nobody was on call
	Incoming string // empty when nobody is on call after it
}

// Validate checks that r is usable: a location, a positive shift, distinct
// members, an anchor on one of them, and sorted, non-overlapping overrides.
// Its errors are *klaxon.Error values with one clear sentence.
func (r *Rotation) Validate() error {
	if r.Location == nil {
		return klaxon.Errorf(klaxon.EInvalid, "The rotation has no timezone.")
	}
	if err := checkShiftHours(r.ShiftHours); err != nil {
		return err
	}
	if err := checkMembers(r.Members); err != nil {
		return err
	}
	found := false
	for _, m := range r.Members {
		found = found || m == r.Anchor.Member
	}
	if !found {
		return klaxon.Errorf(klaxon.EInvalid, "The rotation's anchor %q is not one of its members.", r.Anchor.Member)
	}
	for i, o := range r.Overrides {
		if !o.End.After(o.Start) {
			return klaxon.Errorf(klaxon.EInvalid, "An override must end after it starts.")
		}
		if i > 0 && o.Start.Before(r.Overrides[i-1].End) {
			return klaxon.Errorf(klaxon.EConflict, "Overrides must not overlap.")
		}
	}
	return nil
}

func checkShiftHours(h int) error {
	if h <= 0 {
		return klaxon.Errorf(klaxon.EInvalid, "The shift length must be positive.")
	}
	if h > MaxShiftHours {
		return klaxon.Errorf(klaxon.EInvalid, "A shift can last at most a year (%d hours).", MaxShiftHours)
	}
	return nil
}

func checkMembers(members []string) error {
	if len(members) == 0 {
		return klaxon.Errorf(klaxon.EInvalid, "A rotation needs at least one member.")
	}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		if m == "" {
			return klaxon.Errorf(klaxon.EInvalid, "A member's handle must not be empty.")
		}
		if seen[m] {
			return klaxon.Errorf(klaxon.EInvalid, "%q is listed twice; each member appears once in the order.", m)
		}
		seen[m] = true
	}
	return nil
}

// schedule is a Rotation prepared for many lookups.
type schedule struct {
	*Rotation
	anchorPos int64
	n         int64 // members
	step      int64 // seconds per shift
	origin    int64 // civil seconds of shift 0
	elapsed   bool
	originAt  time.Time // shift 0's instant, for elapsed shifts
}

func (r *Rotation) prepare() *schedule {
	s := &schedule{Rotation: r, n: int64(len(r.Members)), step: int64(r.ShiftHours) * 3600, origin: r.Origin.Unix()}
	for i, m := range r.Members {
		if m == r.Anchor.Member {
			s.anchorPos = int64(i)
			break
		}
	}
	if r.ShiftHours == 1 {
		s.elapsed = true
		s.originAt = resolve(s.origin, r.Location)
	}
	return s
}

// ShiftStart returns when shift k begins.
func (r *Rotation) ShiftStart(k int64) time.Time { return r.prepare().shiftStart(k) }

// ShiftIndex returns the shift that holds instant t: the last shift that
// begins at or before t.
func (r *Rotation) ShiftIndex(t time.Time) int64 { return r.prepare().shiftIndex(t) }

func (s *schedule) shiftStart(k int64) time.Time {
	if s.elapsed {
		return time.Unix(s.originAt.Unix()+k*s.step, 0).UTC()
	}
	return resolve(s.origin+k*s.step, s.Location).UTC()
}

func (s *schedule) shiftIndex(t time.Time) int64 {
	var k int64
	if s.elapsed {
		k = floorDiv(t.Unix()-s.originAt.Unix(), s.step)
	} else {
		k = floorDiv(civil(t, s.Location)-s.origin, s.step)
	}
	// The wall clock is not the timeline around a DST change: settle on
	// the true shift by the instants themselves. This moves at most a step
	// or two.
	for !s.shiftStart(k + 1).After(t) {
		k++
	}
	for s.shiftStart(k).After(t) {
		k--
	}
	return k
}

// member returns who has shift k.
func (s *schedule) member(k int64) string {
	return s.Members[floorMod(s.anchorPos+k-s.Anchor.Shift, s.n)]
}

// segmentAt returns the segment that holds instant t.
func (s *schedule) segmentAt(t time.Time) Segment {
	var seg Segment
	var schedStart, schedEnd time.Time
	if t.Before(s.Start) {
		schedEnd = s.Start
	} else {
		k := s.shiftIndex(t)
		seg.Scheduled = s.member(k)
		if s.n == 1 {
			// Every shift is the same person's: no boundary is a handoff.
			schedStart = s.Start
		} else {
			schedStart = latest(s.shiftStart(k), s.Start)
			schedEnd = s.shiftStart(k + 1)
		}
	}
	var ovStart, ovEnd time.Time
	ovs := s.Overrides
	i := sort.Search(len(ovs), func(i int) bool { return ovs[i].End.After(t) })
	if i < len(ovs) && !ovs[i].Start.After(t) {
		o := ovs[i]
		seg.User, seg.Override, seg.overrideEnd = o.User, o.ID, o.End
		ovStart, ovEnd = o.Start, o.End
	} else {
		seg.User = seg.Scheduled
		if i > 0 {
			ovStart = ovs[i-1].End
		}
		if i < len(ovs) {
			ovEnd = ovs[i].Start
		}
	}
	seg.Start = latest(schedStart, ovStart)
	seg.End = earliest(schedEnd, ovEnd)
	return seg
}

// latest returns the later of two starts, zero meaning "always".
func latest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.After(a)) {
		return b
	}
	return a
}

// earliest returns the earlier of two ends, zero meaning "never".
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// nextHandoff returns the first instant after t at which the person on
// call changes.
func (s *schedule) nextHandoff(t time.Time) (Handoff, bool) {
	seg := s.segmentAt(t)
	cur := seg.User
	// Each step crosses an override's end or a shift boundary outside any
	// override; with two or more members the latter always changes the
	// scheduled person, so this bound is never reached by a real change.
	limit := 2*len(s.Overrides) + 4
	for range limit {
		next := seg.End
		if !seg.overrideEnd.IsZero() {
			// Nobody changes while an override is in force.
			next = seg.overrideEnd
		}
		if next.IsZero() {
			return Handoff{}, false
		}
		seg = s.segmentAt(next)
		if seg.User != cur {
			return Handoff{At: next, Outgoing: cur, Incoming: seg.User}, true
		}
	}
	return Handoff{}, false
}

// At returns who is on call at instant t, who the rotation alone would
// have, and until when.
func (r *Rotation) At(t time.Time) OnCall {
	s := r.prepare()
	seg := s.segmentAt(t)
	oc := OnCall{User: seg.User, Scheduled: seg.Scheduled, Override: seg.Override}
	if !t.Before(r.Start) {
		k := s.shiftIndex(t)
		oc.ShiftStart = latest(s.shiftStart(k), r.Start)
		if s.n > 1 {
			oc.ShiftEnd = s.shiftStart(k + 1)
		}
	}
	if h, ok := s.nextHandoff(t); ok {
		oc.Until = h.At
	}
	return oc
}

// NextHandoff returns the first handoff strictly after instant t, and false
// when none is ahead.
func (r *Rotation) NextHandoff(t time.Time) (Handoff, bool) {
	return r.prepare().nextHandoff(t)
}

// Handoffs returns the handoffs after from and up to to, at most max of
// them.
func (r *Rotation) Handoffs(from, to time.Time, max int) []Handoff {
	s := r.prepare()
	var out []Handoff
	t := from
	for len(out) < max {
		h, ok := s.nextHandoff(t)
		if !ok || h.At.After(to) {
			break
		}
		out = append(out, h)
		t = h.At
	}
	return out
}

// Segments returns the segments that cover [from, to), in order; the first
// may begin before from and the last may end after to. At most max are
// returned. Segments with nobody on call are left out.
func (r *Rotation) Segments(from, to time.Time, max int) []Segment {
	s := r.prepare()
	var out []Segment
	t := from
	for len(out) < max && t.Before(to) {
		seg := s.segmentAt(t)
		if seg.User != "" {
			seg.overrideEnd = time.Time{}
			out = append(out, seg)
		}
		if seg.End.IsZero() {
			break
		}
		t = seg.End
	}
	return out
}

// Rebase returns the anchor that keeps whoever the rotation schedules at
// instant now on call when the member list becomes members, with the
// shifts after theirs following the new order. A member removed while on
// call hands the rest of the shift to the next remaining member in the old
// order. Before the rotation starts, the new first member takes the first
// shift.
func (r *Rotation) Rebase(now time.Time, members []string) (Anchor, error) {
	if err := checkMembers(members); err != nil {
		return Anchor{}, err
	}
	s := r.prepare()
	if now.Before(r.Start) {
		return Anchor{Member: members[0], Shift: s.shiftIndex(r.Start)}, nil
	}
	k := s.shiftIndex(now)
	cur := s.member(k)
	keep := make(map[string]bool, len(members))
	for _, m := range members {
		keep[m] = true
	}
	pos := int64(0)
	for i, m := range r.Members {
		if m == cur {
			pos = int64(i)
		}
	}
	for i := range s.n {
		m := r.Members[(pos+i)%s.n]
		if keep[m] {
			return Anchor{Member: m, Shift: k}, nil
		}
	}
	return Anchor{Member: members[0], Shift: k}, nil
}
