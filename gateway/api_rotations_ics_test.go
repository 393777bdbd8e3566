package gateway

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/store"
)

func TestFoldICS_KeepsLinesWithin75OctetsWithoutSplittingCharacters(t *testing.T) {
	tests := []string{
		"SHORT:line",
		"SUMMARY:" + strings.Repeat("x", 200),
		"SUMMARY:On call: ops — " + strings.Repeat("é—ü", 40),
		"DESCRIPTION:" + strings.Repeat("日本語", 50),
	}
	for _, in := range tests {
		out := foldICS(in)
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("%q: no CRLF at the end", out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
		var unfolded strings.Builder
		for i, l := range lines {
			if len(l) > 75 {
				t.Errorf("line %d is %d octets: %q", i, len(l), l)
			}
			if !utf8.ValidString(l) {
				t.Errorf("line %d splits a character: %q", i, l)
			}
			if i > 0 {
				if !strings.HasPrefix(l, " ") {
					t.Errorf("continuation line %d does not start with a space", i)
				}
				l = l[1:]
			}
			unfolded.WriteString(l)
		}
		if unfolded.String() != in {
			t.Errorf("unfolding gives %q, want %q", unfolded.String(), in)
		}
	}
}

func TestEscapeICS_EscapesTextSpecials(t *testing.T) {
	got := escapeICS("a,b;c\\d\ne\r\nf")
	if want := `a\,b\;c\\d\ne\nf`; got != want {
		t.Fatalf("escapeICS = %q, want %q", got, want)
	}
}

func TestRotationICS_OneEventPerStretchWithStableUIDs(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 3, 23, 9, 0, 0, 0, berlin) // a Monday; summer time from 29 March
	sched, err := oncall.New(oncall.Spec{Timezone: "Europe/Berlin", ShiftHours: 168, Start: start, Members: []string{"alice", "bob"}})
	if err != nil {
		t.Fatal(err)
	}
	ov := store.RotationOverride{ID: 7, User: "carol", Start: start.Add(48 * time.Hour), End: start.Add(72 * time.Hour)}
	sched.Overrides = []oncall.Override{{ID: ov.ID, User: ov.User, Start: ov.Start, End: ov.End}}
	rs := store.RotationSchedule{
		Rotation:  store.Rotation{Name: "ops", Timezone: "Europe/Berlin"},
		Overrides: []store.RotationOverride{ov},
		Schedule:  sched,
	}
	from := start.Add(time.Hour)
	ics := rotationICS(rs, from, from.AddDate(0, 0, 14), "klaxon.example.org")
	for i, l := range strings.SplitAfter(ics, "\r\n") {
		if l != "" && !strings.HasSuffix(l, "\r\n") {
			t.Fatalf("line %d does not end with CRLF: %q", i, l)
		}
	}
	for _, want := range []string{
		"BEGIN:VCALENDAR\r\n", "VERSION:2.0\r\n", "PRODID:-//Klaxon//On-call rotations//EN\r\n", "X-WR-TIMEZONE:Europe/Berlin\r\n",
		// alice until carol covers, in UTC (CET is UTC+1).
		"UID:rotation-ops-1774252800-alice@klaxon.example.org\r\n", "DTSTART:20260323T080000Z\r\n", "DTEND:20260325T080000Z\r\n",
		"SUMMARY:On call: ops — carol\r\n", "DESCRIPTION:carol is on call for ops\\, covering for alice (override 7).\r\n",
		// bob from Monday 30 March 09:00 CEST, which is 07:00 UTC.
		"DTSTART:20260330T070000Z\r\n", "SUMMARY:On call: ops — bob\r\n",
		"END:VCALENDAR\r\n",
	} {
		if !strings.Contains(ics, want) {
			t.Errorf("calendar lacks %q:\n%s", want, ics)
		}
	}
	// alice, carol, alice, bob, and alice from 6 April.
	if n := strings.Count(ics, "BEGIN:VEVENT"); n != 5 {
		t.Errorf("%d events, want 5:\n%s", n, ics)
	}
	// Fetched again later, the same stretches keep their UIDs.
	again := rotationICS(rs, from.Add(30*time.Hour), from.AddDate(0, 0, 14), "klaxon.example.org")
	if !strings.Contains(again, "UID:rotation-ops-1774252800-alice@klaxon.example.org\r\n") {
		t.Errorf("the current stretch changed its UID:\n%s", again)
	}
}
