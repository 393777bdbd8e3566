package oncall

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// local parses "2006-01-02 15:04" as a wall-clock time in loc.
func local(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func utc(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newRotation(t testing.TB, spec Spec) *Rotation {
	t.Helper()
	r, err := New(spec)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func tod(h, m int) *TimeOfDay { return &TimeOfDay{Hour: h, Minute: m} }

func wd(d time.Weekday) *time.Weekday { return &d }

func TestResolve_AmbiguousAndSkippedWallClockTimes(t *testing.T) {
	tests := []struct {
		name, zone, civil, want string
	}{
		{"ordinary time", "America/New_York", "2026-01-15T09:00:00Z", "2026-01-15T14:00:00Z"},
		{"New York skipped 02:30 happens at the jump", "America/New_York", "2026-03-08T02:30:00Z", "2026-03-08T07:00:00Z"},
		{"New York skipped 02:00 happens at the jump", "America/New_York", "2026-03-08T02:00:00Z", "2026-03-08T07:00:00Z"},
		{"New York 03:00 after the jump", "America/New_York", "2026-03-08T03:00:00Z", "2026-03-08T07:00:00Z"},
		{"New York repeated 01:30 is the first one", "America/New_York", "2026-11-01T01:30:00Z", "2026-11-01T05:30:00Z"},
		{"Berlin skipped 02:30 happens at the jump", "Europe/Berlin", "2026-03-29T02:30:00Z", "2026-03-29T01:00:00Z"},
		{"Berlin repeated 02:30 is the first one", "Europe/Berlin", "2026-10-25T02:30:00Z", "2026-10-25T00:30:00Z"},
		{"Lord Howe half-hour jump", "Australia/Lord_Howe", "2026-10-04T02:15:00Z", "2026-10-03T15:30:00Z"},
		{"Apia skipped a whole day", "Pacific/Apia", "2011-12-30T09:00:00Z", "2011-12-30T10:00:00Z"},
		{"UTC", "UTC", "2026-03-08T02:30:00Z", "2026-03-08T02:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(utc(t, tt.civil).Unix(), mustLoc(t, tt.zone))
			if want := utc(t, tt.want); !got.Equal(want) {
				t.Errorf("resolve(%s in %s) = %s, want %s", tt.civil, tt.zone, got.UTC(), want)
			}
		})
	}
}

// TestHandoffs_KeepLocalTimeAcrossDST checks the handoff instants and shift
// lengths around DST changes in two timezones.
func TestHandoffs_KeepLocalTimeAcrossDST(t *testing.T) {
	type shift struct {
		local string // handoff, local wall clock
		hours float64
	}
	tests := []struct {
		name       string
		zone       string
		shiftHours int
		start      string // local
		from       string // local: list shifts from here
		want       []shift
	}{
		{
			name: "New York daily 09:00 across spring forward is 23 h", zone: "America/New_York", shiftHours: 24,
			start: "2026-03-01 09:00", from: "2026-03-06 12:00",
			want: []shift{{"2026-03-07 09:00", 23}, {"2026-03-08 09:00", 24}, {"2026-03-09 09:00", 24}},
		},
		{
			name: "New York daily 09:00 across fall back is 25 h", zone: "America/New_York", shiftHours: 24,
			start: "2026-10-01 09:00", from: "2026-10-30 12:00",
			want: []shift{{"2026-10-31 09:00", 25}, {"2026-11-01 09:00", 24}},
		},
		{
			name: "Berlin weekly Monday 09:00 across spring forward is 167 h", zone: "Europe/Berlin", shiftHours: 168,
			start: "2026-03-02 09:00", from: "2026-03-20 12:00",
			want: []shift{{"2026-03-23 09:00", 167}, {"2026-03-30 09:00", 168}},
		},
		{
			name: "Berlin weekly Monday 09:00 across fall back is 169 h", zone: "Europe/Berlin", shiftHours: 168,
			start: "2026-10-05 09:00", from: "2026-10-20 12:00",
			want: []shift{{"2026-10-26 09:00", 168}, {"2026-11-02 09:00", 168}},
		},
		{
			name: "Berlin weekly Monday 09:00: the week holding the change is 169 h", zone: "Europe/Berlin", shiftHours: 168,
			start: "2026-10-05 09:00", from: "2026-10-19 08:00",
			want: []shift{{"2026-10-19 09:00", 169}, {"2026-10-26 09:00", 168}},
		},
		{
			name: "Berlin 12 h shifts stay 09:00 and 21:00", zone: "Europe/Berlin", shiftHours: 12,
			start: "2026-03-27 09:00", from: "2026-03-28 10:00",
			want: []shift{{"2026-03-28 21:00", 11}, {"2026-03-29 09:00", 12}, {"2026-03-29 21:00", 12}},
		},
		{
			name: "New York daily 02:30 happens at 03:00 on the skipped night", zone: "America/New_York", shiftHours: 24,
			start: "2026-03-01 02:30", from: "2026-03-07 12:00",
			want: []shift{{"2026-03-08 03:00", 23.5}, {"2026-03-09 02:30", 24}},
		},
		{
			name: "New York daily 01:30 happens once, at the first 01:30, on the repeated night", zone: "America/New_York", shiftHours: 24,
			start: "2026-10-25 01:30", from: "2026-10-31 12:00",
			want: []shift{{"2026-11-01 01:30", 25}, {"2026-11-02 01:30", 24}},
		},
		{
			name: "hourly shifts are elapsed hours", zone: "America/New_York", shiftHours: 1,
			start: "2026-03-08 00:00", from: "2026-03-08 00:30",
			want: []shift{{"2026-03-08 01:00", 1}, {"2026-03-08 03:00", 1}, {"2026-03-08 04:00", 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoc(t, tt.zone)
			r := newRotation(t, Spec{Timezone: tt.zone, ShiftHours: tt.shiftHours, Start: local(t, loc, tt.start), Members: []string{"a", "b", "c"}})
			from := local(t, loc, tt.from)
			k := r.ShiftIndex(from) + 1
			for i, w := range tt.want {
				start, end := r.ShiftStart(k+int64(i)), r.ShiftStart(k+int64(i)+1)
				if got := start.In(loc).Format("2006-01-02 15:04"); got != w.local {
					t.Errorf("handoff %d at %s local, want %s", i, got, w.local)
				}
				if got := end.Sub(start).Hours(); got != w.hours {
					t.Errorf("shift from %s lasts %v h, want %v h", w.local, got, w.hours)
				}
			}
		})
	}
}

// TestShiftIndex_AgreesWithShiftStart checks, over two years of random
// instants in zones with odd rules, that the shift found for an instant
// holds it, and that shifts never run backwards.
func TestShiftIndex_AgreesWithShiftStart(t *testing.T) {
	zones := []string{"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata", "America/Santiago", "UTC"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, zone := range zones {
		for _, h := range []int{1, 2, 5, 8, 12, 24, 36, 48, 168, 336} {
			for _, hm := range []string{"00:00", "01:30", "02:30", "09:00"} {
				t.Run(fmt.Sprintf("%s/%dh/%s", zone, h, hm), func(t *testing.T) {
					loc := mustLoc(t, zone)
					at, _ := ParseTimeOfDay(hm)
					r := newRotation(t, Spec{Timezone: zone, ShiftHours: h, Start: time.Date(2010, 6, 1, 12, 0, 0, 0, loc), HandoffTime: &at, Members: []string{"a", "b"}})
					base := time.Date(2010, 9, 1, 0, 0, 0, 0, time.UTC)
					for range 400 {
						ti := base.Add(time.Duration(rng.Int64N(int64(2 * 366 * 24 * time.Hour))))
						k := r.ShiftIndex(ti)
						s, e := r.ShiftStart(k), r.ShiftStart(k+1)
						if s.After(ti) || !e.After(ti) {
							t.Fatalf("ShiftIndex(%s) = %d, but that shift is [%s, %s)", ti, k, s, e)
						}
						if p := r.ShiftStart(k - 1); p.After(s) {
							t.Fatalf("shift %d starts at %s, after shift %d at %s", k-1, p, k, s)
						}
					}
				})
			}
		}
	}
}

func TestNew_AlignsFirstShiftToHandoffTimeAndWeekday(t *testing.T) {
	berlin := mustLoc(t, "Europe/Berlin")
	tests := []struct {
		name          string
		spec          Spec
		wantFirstEnd  string // local
		wantSecondEnd string
		wantHandoff   string
		wantWeekday   string
	}{
		{
			name:         "no handoff fields: handoffs at start's local time",
			spec:         Spec{ShiftHours: 24, Start: local(t, berlin, "2026-03-04 10:15")},
			wantFirstEnd: "2026-03-05 10:15", wantSecondEnd: "2026-03-06 10:15", wantHandoff: "10:15",
		},
		{
			name:         "handoff time later than start: a short first shift",
			spec:         Spec{ShiftHours: 24, Start: local(t, berlin, "2026-03-04 08:00"), HandoffTime: tod(9, 0)},
			wantFirstEnd: "2026-03-04 09:00", wantSecondEnd: "2026-03-05 09:00", wantHandoff: "09:00",
		},
		{
			name:         "handoff time earlier than start: first shift until tomorrow's handoff",
			spec:         Spec{ShiftHours: 24, Start: local(t, berlin, "2026-03-04 10:00"), HandoffTime: tod(9, 0)},
			wantFirstEnd: "2026-03-05 09:00", wantSecondEnd: "2026-03-06 09:00", wantHandoff: "09:00",
		},
		{
			name:         "weekly on Monday from a Wednesday start",
			spec:         Spec{ShiftHours: 168, Start: local(t, berlin, "2026-03-04 12:00"), HandoffTime: tod(9, 30), HandoffWeekday: wd(time.Monday)},
			wantFirstEnd: "2026-03-09 09:30", wantSecondEnd: "2026-03-16 09:30", wantHandoff: "09:30", wantWeekday: "Monday",
		},
		{
			name:         "weekday alone keeps start's time of day",
			spec:         Spec{ShiftHours: 336, Start: local(t, berlin, "2026-03-04 12:00"), HandoffWeekday: wd(time.Friday)},
			wantFirstEnd: "2026-03-13 12:00", wantSecondEnd: "2026-03-27 12:00", wantHandoff: "12:00", wantWeekday: "Friday",
		},
		{
			name:         "12 h shifts aligned to 09:00 from an evening start",
			spec:         Spec{ShiftHours: 12, Start: local(t, berlin, "2026-03-04 22:00"), HandoffTime: tod(9, 0)},
			wantFirstEnd: "2026-03-05 09:00", wantSecondEnd: "2026-03-05 21:00", wantHandoff: "09:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Timezone = "Europe/Berlin"
			tt.spec.Members = []string{"alice", "bob", "carol"}
			r := newRotation(t, tt.spec)
			start := tt.spec.Start
			if got := r.At(start); got.User != "alice" {
				t.Fatalf("at start %s is on call, want alice", got.User)
			}
			if got := r.At(start.Add(-time.Second)); got.User != "" {
				t.Errorf("before start %q is on call, want nobody", got.User)
			}
			h1, _ := r.NextHandoff(start)
			h2, _ := r.NextHandoff(h1.At)
			if got := h1.At.In(berlin).Format("2006-01-02 15:04"); got != tt.wantFirstEnd || h1.Outgoing != "alice" || h1.Incoming != "bob" {
				t.Errorf("first handoff %s %s→%s, want %s alice→bob", got, h1.Outgoing, h1.Incoming, tt.wantFirstEnd)
			}
			if got := h2.At.In(berlin).Format("2006-01-02 15:04"); got != tt.wantSecondEnd || h2.Incoming != "carol" {
				t.Errorf("second handoff %s to %s, want %s to carol", got, h2.Incoming, tt.wantSecondEnd)
			}
			if got := r.HandoffTime().String(); got != tt.wantHandoff {
				t.Errorf("HandoffTime = %s, want %s", got, tt.wantHandoff)
			}
			d, ok := r.HandoffWeekday()
			if (tt.wantWeekday != "") != ok || (ok && d.String() != tt.wantWeekday) {
				t.Errorf("HandoffWeekday = %v %v, want %q", d, ok, tt.wantWeekday)
			}
		})
	}
}

func TestNew_RefusesBadSpecs(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ok := Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"a", "b"}}
	tests := []struct {
		name string
		edit func(*Spec)
		want string
	}{
		{"unknown timezone", func(s *Spec) { s.Timezone = "Mars/Olympus" }, `"Mars/Olympus" is not a known timezone`},
		{"empty timezone", func(s *Spec) { s.Timezone = "" }, "A timezone is required"},
		{"server-dependent Local", func(s *Spec) { s.Timezone = "Local" }, `"Local" is not a known timezone`},
		{"zero shift", func(s *Spec) { s.ShiftHours = 0 }, "The shift length must be positive."},
		{"negative shift", func(s *Spec) { s.ShiftHours = -24 }, "The shift length must be positive."},
		{"shift over a year", func(s *Spec) { s.ShiftHours = MaxShiftHours + 1 }, "at most a year"},
		{"no members", func(s *Spec) { s.Members = nil }, "at least one member"},
		{"a member twice", func(s *Spec) { s.Members = []string{"a", "b", "a"} }, `"a" is listed twice`},
		{"no start", func(s *Spec) { s.Start = time.Time{} }, "needs a start time"},
		{"weekday with daily shifts", func(s *Spec) { s.HandoffWeekday = wd(time.Monday) }, "needs a shift of whole weeks; this shift is 1 day"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			_, err := New(s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
			if klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
				t.Errorf("error code %s, want invalid", klaxon.ErrorCodeOf(err))
			}
		})
	}
}

func TestAt_OverridesWinAndShowTheScheduledPerson(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	r := newRotation(t, Spec{Timezone: "UTC", ShiftHours: 24, Start: day(1, 9), Members: []string{"alice", "bob", "carol"}})
	// alice 1st, bob 2nd, carol 3rd, alice 4th, bob 5th, ...
	r.Overrides = []Override{
		{ID: 1, User: "dave", Start: day(1, 12), End: day(1, 14)}, // inside alice's shift
		{ID: 2, User: "bob", Start: day(3, 20), End: day(4, 9)},   // bob takes carol's evening; his own shift is not next
		{ID: 3, User: "erin", Start: day(5, 6), End: day(5, 12)},  // across a handoff (alice→bob at 5th 09:00)
		{ID: 4, User: "erin", Start: day(5, 12), End: day(5, 15)}, // adjacent, same cover
		{ID: 5, User: "alice", Start: day(6, 9), End: day(7, 9)},  // alice covers carol's whole shift, then has her own
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		at             time.Time
		user, sched    string
		override       int64
		until          time.Time
		shiftStart     time.Time
		shiftEndIsZero bool
	}{
		{"before the start nobody", day(1, 8), "", "", 0, day(1, 9), time.Time{}, true},
		{"scheduled", day(1, 10), "alice", "alice", 0, day(1, 12), day(1, 9), false},
		{"override inside a shift", day(1, 13), "dave", "alice", 1, day(1, 14), day(1, 9), false},
		{"back after the override", day(1, 14), "alice", "alice", 0, day(2, 9), day(1, 9), false},
		{"override at its first instant", day(3, 20), "bob", "carol", 2, day(4, 9), day(3, 9), false},
		{"override's end is exclusive", day(4, 9), "alice", "alice", 0, day(5, 6), day(4, 9), false},
		{"adjacent overrides of one person are one stint", day(5, 7), "erin", "alice", 3, day(5, 15), day(4, 9), false},
		{"second adjacent override", day(5, 13), "erin", "bob", 4, day(5, 15), day(5, 9), false},
		{"a cover followed by their own shift is one stint", day(6, 10), "alice", "carol", 5, day(8, 9), day(6, 9), false},
		{"the cover's own shift", day(7, 10), "alice", "alice", 0, day(8, 9), day(7, 9), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.At(tt.at)
			if got.User != tt.user || got.Scheduled != tt.sched || got.Override != tt.override || !got.Until.Equal(tt.until) {
				t.Errorf("At(%s) = %+v, want user %q scheduled %q override %d until %s", tt.at, got, tt.user, tt.sched, tt.override, tt.until)
			}
			if !got.ShiftStart.Equal(tt.shiftStart) || got.ShiftEnd.IsZero() != tt.shiftEndIsZero {
				t.Errorf("At(%s) shift [%s, %s), want start %s", tt.at, got.ShiftStart, got.ShiftEnd, tt.shiftStart)
			}
		})
	}
}

func TestNextHandoff_OneMemberRotation(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r := newRotation(t, Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"solo"}})
	if h, ok := r.NextHandoff(start.Add(time.Hour)); ok {
		t.Fatalf("a one-member rotation hands off at %+v", h)
	}
	if got := r.At(start.Add(48 * time.Hour)); got.User != "solo" || !got.Until.IsZero() {
		t.Fatalf("At = %+v, want solo with no end", got)
	}
	h, ok := r.NextHandoff(start.Add(-time.Hour))
	if !ok || !h.At.Equal(start) || h.Outgoing != "" || h.Incoming != "solo" {
		t.Fatalf("the start is a handoff from nobody to solo; got %+v %v", h, ok)
	}
	r.Overrides = []Override{{ID: 1, User: "cover", Start: start.Add(50 * time.Hour), End: start.Add(60 * time.Hour)}}
	got := r.Handoffs(start, start.Add(30*24*time.Hour), 10)
	want := []Handoff{{At: start.Add(50 * time.Hour), Outgoing: "solo", Incoming: "cover"}, {At: start.Add(60 * time.Hour), Outgoing: "cover", Incoming: "solo"}}
	if !slices.Equal(got, want) {
		t.Fatalf("Handoffs = %+v, want %+v", got, want)
	}
}

func TestNextHandoff_OverrideBeforeStartAndLongCovers(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	r := newRotation(t, Spec{Timezone: "UTC", ShiftHours: 24, Start: day(10, 9), Members: []string{"a", "b"}})
	r.Overrides = []Override{
		{ID: 1, User: "x", Start: day(8, 0), End: day(9, 0)},   // before the rotation starts
		{ID: 2, User: "b", Start: day(10, 9), End: day(21, 9)}, // b covers eleven days of shifts
	}
	want := []Handoff{
		{At: day(8, 0), Outgoing: "", Incoming: "x"},
		{At: day(9, 0), Outgoing: "x", Incoming: ""},
		{At: day(10, 9), Outgoing: "", Incoming: "b"},
		{At: day(22, 9), Outgoing: "b", Incoming: "a"}, // day 21 is b's own shift
	}
	if got := r.Handoffs(day(1, 0), day(23, 0), 10); !slices.Equal(got, want) {
		t.Fatalf("Handoffs =\n%+v\nwant\n%+v", got, want)
	}
}

func TestRebase_MemberEditsKeepWhoIsOnCallNow(t *testing.T) {
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return start.AddDate(0, 0, d) }
	base := func() *Rotation {
		return newRotation(t, Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"a", "b", "c", "d"}})
	}
	// Shifts: a day 0, b day 1, c day 2, d day 3, a day 4 ...
	now := day(2).Add(5 * time.Hour) // c is on call, until day 3
	tests := []struct {
		name    string
		now     time.Time
		members []string
		// who is on call from now on, one per day from the current shift
		want []string
	}{
		{"add a member at the end", now, []string{"a", "b", "c", "d", "e"}, []string{"c", "d", "e", "a", "b", "c"}},
		{"add a member at the front", now, []string{"e", "a", "b", "c", "d"}, []string{"c", "d", "e", "a", "b", "c"}},
		{"reorder", now, []string{"d", "c", "b", "a"}, []string{"c", "b", "a", "d", "c"}},
		{"remove someone else", now, []string{"a", "c", "d"}, []string{"c", "d", "a", "c"}},
		{"remove the person on call: the next one takes over", now, []string{"a", "b", "d"}, []string{"d", "a", "b", "d"}},
		{"replace everyone", now, []string{"x", "y"}, []string{"x", "y", "x"}},
		{"edit before the start: the new first member starts", start.Add(-time.Hour), []string{"d", "c", "b", "a"}, []string{"d", "c", "b", "a", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := base()
			a, err := r.Rebase(tt.now, tt.members)
			if err != nil {
				t.Fatal(err)
			}
			before := r.At(tt.now)
			r.Members, r.Anchor = tt.members, a
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			from := tt.now
			if from.Before(start) {
				from = start
			}
			if removed := !slices.Contains(tt.members, before.User); !removed && before.User != "" {
				if got := r.At(tt.now).User; got != before.User {
					t.Fatalf("the edit changed who is on call now from %s to %s", before.User, got)
				}
			}
			var got []string
			for i := range tt.want {
				got = append(got, r.At(from.AddDate(0, 0, i)).User)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("on call by day = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRebase_RefusesBadMemberLists(t *testing.T) {
	r := newRotation(t, Spec{Timezone: "UTC", ShiftHours: 24, Start: time.Unix(0, 0), Members: []string{"a"}})
	for _, members := range [][]string{nil, {"a", "a"}, {""}} {
		if _, err := r.Rebase(time.Unix(1e6, 0), members); klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
			t.Errorf("Rebase(%q) = %v, want an invalid-input error", members, err)
		}
	}
}

func TestSegments_CoverAWindowWithOverridesInPlace(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	r := newRotation(t, Spec{Timezone: "UTC", ShiftHours: 24, Start: day(1, 9), Members: []string{"a", "b"}})
	r.Overrides = []Override{{ID: 7, User: "c", Start: day(2, 12), End: day(2, 18)}}
	got := r.Segments(day(1, 0), day(3, 10), 100)
	type seg struct {
		user, sched string
		ov          int64
		start, end  time.Time
	}
	var flat []seg
	for _, s := range got {
		flat = append(flat, seg{s.User, s.Scheduled, s.Override, s.Start.UTC(), s.End.UTC()})
	}
	want := []seg{
		{"a", "a", 0, day(1, 9), day(2, 9)},
		{"b", "b", 0, day(2, 9), day(2, 12)},
		{"c", "b", 7, day(2, 12), day(2, 18)},
		{"b", "b", 0, day(2, 18), day(3, 9)},
		{"a", "a", 0, day(3, 9), day(4, 9)},
	}
	if !slices.Equal(flat, want) {
		t.Fatalf("Segments =\n%+v\nwant\n%+v", flat, want)
	}
}

func TestValidate_RefusesOverlappingOrInvertedOverrides(t *testing.T) {
	start := time.Unix(1e9, 0)
	base := func() *Rotation {
		return newRotation(t, Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"a"}})
	}
	r := base()
	r.Overrides = []Override{{User: "b", Start: start, End: start}}
	if err := r.Validate(); klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
		t.Errorf("an empty override: %v", err)
	}
	r = base()
	r.Overrides = []Override{{User: "b", Start: start, End: start.Add(2 * time.Hour)}, {User: "c", Start: start.Add(time.Hour), End: start.Add(3 * time.Hour)}}
	if err := r.Validate(); klaxon.ErrorCodeOf(err) != klaxon.EConflict {
		t.Errorf("overlapping overrides: %v", err)
	}
	r = base()
	r.Anchor.Member = "z"
	if err := r.Validate(); err == nil {
		t.Error("an anchor outside the members passed")
	}
}

func TestParse_TimeOfDayAndWeekday(t *testing.T) {
	for in, want := range map[string]string{"09:00": "09:00", "9:05": "09:05", "23:59": "23:59", " 00:00 ": "00:00"} {
		got, err := ParseTimeOfDay(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "24:00", "9", "09:60", "9:5", "nine", "-1:00"} {
		if _, err := ParseTimeOfDay(in); err == nil {
			t.Errorf("ParseTimeOfDay(%q) passed", in)
		}
	}
	for in, want := range map[string]time.Weekday{"monday": time.Monday, "Mon": time.Monday, "SUNDAY": time.Sunday, "sat": time.Saturday} {
		if got, err := ParseWeekday(in); err != nil || got != want {
			t.Errorf("ParseWeekday(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "mo", "mond", "funday"} {
		if _, err := ParseWeekday(in); err == nil {
			t.Errorf("ParseWeekday(%q) passed", in)
		}
	}
}

func TestShiftString(t *testing.T) {
	for h, want := range map[int]string{1: "1 hour", 12: "12 hours", 24: "1 day", 48: "2 days", 168: "1 week", 336: "2 weeks", 36: "36 hours"} {
		if got := ShiftString(h); got != want {
			t.Errorf("ShiftString(%d) = %q, want %q", h, got, want)
		}
	}
}
