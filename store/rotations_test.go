package store_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/store"
)

// rotationUsers creates users with these handles; those listed in verified
// get a verified SMS number.
func rotationUsers(t *testing.T, s *store.Store, handles []string, verified ...string) {
	t.Helper()
	ctx := context.Background()
	for i, h := range handles {
		u, err := s.CreateUser(ctx, store.User{Handle: h, Name: strings.ToUpper(h[:1]) + h[1:], Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(verified, h) {
			c, err := s.AddContact(ctx, store.Contact{UserID: u.ID, Type: klaxon.SMS, Address: "+1555555" + string(rune('1'+i%9)) + "0" + string(rune('0'+i%10)) + "0"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.MarkContactVerified(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var rotStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

func dailyOps(members ...string) store.NewRotation {
	return store.NewRotation{
		Name:     "ops",
		Spec:     oncall.Spec{Timezone: "Europe/Berlin", ShiftHours: 24, Start: rotStart, Members: members},
		Reminder: store.DefaultReminder,
	}
}

func wantCode(t *testing.T, err error, code klaxon.ErrorCode, text string) {
	t.Helper()
	if klaxon.ErrorCodeOf(err) != code || !strings.Contains(klaxon.ErrorMessageOf(err), text) {
		t.Fatalf("error %v (%s), want %s containing %q", err, klaxon.ErrorCodeOf(err), code, text)
	}
}

func TestCreateRotation_StoresMembersInOrderAndComputesOnCall(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice", "bob", "carol"})
	r, err := db.Store.CreateRotation(ctx, dailyOps("carol", "alice", "bob"))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Handles(); !slices.Equal(got, []string{"carol", "alice", "bob"}) {
		t.Fatalf("members %v", got)
	}
	if r.AnchorUser != "carol" || r.Reminder != time.Hour || r.ShiftHours != 24 || !r.Start.Equal(rotStart) || r.Timezone != "Europe/Berlin" {
		t.Fatalf("rotation %+v", r)
	}
	tests := []struct {
		at          time.Time
		user, until string
	}{
		{rotStart.Add(-time.Minute), "", "2026-03-02T09:00:00Z"},
		{rotStart, "carol", "2026-03-03T09:00:00Z"},
		{rotStart.Add(30 * time.Hour), "alice", "2026-03-04T09:00:00Z"},
		{rotStart.AddDate(0, 0, 2), "bob", "2026-03-05T09:00:00Z"},
		// Berlin moves to summer time on 29 March: handoffs stay 10:00 local.
		{time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC), "alice", "2026-03-31T08:00:00Z"},
	}
	for _, tt := range tests {
		oc, err := db.Store.OnCall(ctx, "ops", tt.at)
		if err != nil {
			t.Fatal(err)
		}
		if oc.User != tt.user || oc.Until.UTC().Format(time.RFC3339) != tt.until || oc.ScheduledUser != tt.user {
			t.Errorf("OnCall(%s) = %+v, want %s until %s", tt.at, oc, tt.user, tt.until)
		}
		if tt.user != "" && oc.UserID == 0 {
			t.Errorf("OnCall(%s) has no user id", tt.at)
		}
	}
}

func TestCreateRotation_KeepsASkippedWallClockOrigin(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice", "bob"})
	ny, _ := time.LoadLocation("America/New_York")
	at := oncall.TimeOfDay{Hour: 2, Minute: 30}
	// Starting on the night New York skips 02:00–03:00, at 02:30.
	nr := store.NewRotation{Name: "night", Spec: oncall.Spec{Timezone: "America/New_York", ShiftHours: 24,
		Start: time.Date(2026, 3, 8, 12, 0, 0, 0, ny), HandoffTime: &at, Members: []string{"alice", "bob"}}}
	if _, err := db.Store.CreateRotation(ctx, nr); err != nil {
		t.Fatal(err)
	}
	oc, err := db.Store.OnCall(ctx, "night", time.Date(2026, 3, 8, 12, 0, 0, 0, ny))
	if err != nil {
		t.Fatal(err)
	}
	if got := oc.Until.In(ny).Format("2006-01-02 15:04"); oc.User != "alice" || got != "2026-03-09 02:30" {
		t.Fatalf("on call %s until %s, want alice until 2026-03-09 02:30", oc.User, got)
	}
}

func TestCreateRotation_RefusesBadInputAndWritesNothing(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice", "bob"})
	tests := []struct {
		name string
		edit func(*store.NewRotation)
		code klaxon.ErrorCode
		text string
	}{
		{"unknown users", func(n *store.NewRotation) { n.Spec.Members = []string{"alice", "zed", "yan"} }, klaxon.EInvalid, `no users with the handles "zed", "yan"`},
		{"unknown user", func(n *store.NewRotation) { n.Spec.Members = []string{"zed"} }, klaxon.EInvalid, `no user with the handle "zed"`},
		{"no members", func(n *store.NewRotation) { n.Spec.Members = nil }, klaxon.EInvalid, "at least one member"},
		{"unknown timezone", func(n *store.NewRotation) { n.Spec.Timezone = "Europe/Atlantis" }, klaxon.EInvalid, "not a known timezone"},
		{"zero shift", func(n *store.NewRotation) { n.Spec.ShiftHours = 0 }, klaxon.EInvalid, "must be positive"},
		{"negative reminder", func(n *store.NewRotation) { n.Reminder = -time.Minute }, klaxon.EInvalid, "reminder"},
		{"bad name", func(n *store.NewRotation) { n.Name = "Ops Team" }, klaxon.EInvalid, "not a valid rotation name"},
		{"calendar-like name", func(n *store.NewRotation) { n.Name = "ops.ics" }, klaxon.EInvalid, "not a valid rotation name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nr := dailyOps("alice", "bob")
			tt.edit(&nr)
			_, err := db.Store.CreateRotation(ctx, nr)
			wantCode(t, err, tt.code, tt.text)
		})
	}
	rs, err := db.Store.Rotations(ctx)
	if err != nil || len(rs) != 0 {
		t.Fatalf("rotations after refusals: %v, %v", rs, err)
	}
	var members int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM rotation_members`).Scan(&members); err != nil || members != 0 {
		t.Fatalf("%d members left behind (%v)", members, err)
	}
	if _, err := db.Store.CreateRotation(ctx, dailyOps("alice")); err != nil {
		t.Fatal(err)
	}
	_, err = db.Store.CreateRotation(ctx, dailyOps("bob"))
	wantCode(t, err, klaxon.EConflict, `A rotation named "ops" already exists.`)
	_, err = db.Store.OnCall(ctx, "nope", rotStart)
	wantCode(t, err, klaxon.ENotFound, `There is no rotation named "nope".`)
}

func TestSetRotationMembers_KeepsWhoIsOnCallNow(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice", "bob", "carol", "dave"})
	if _, err := db.Store.CreateRotation(ctx, dailyOps("alice", "bob", "carol")); err != nil {
		t.Fatal(err)
	}
	now := rotStart.AddDate(0, 0, 4).Add(3 * time.Hour) // bob's shift
	steps := []struct {
		name    string
		edit    func() (store.Rotation, error)
		nowUser string
		next    []string // who has the next shifts
	}{
		{"reorder", func() (store.Rotation, error) {
			return db.Store.SetRotationMembers(ctx, "ops", []string{"carol", "bob", "alice"}, now)
		}, "bob", []string{"alice", "carol", "bob"}},
		{"add", func() (store.Rotation, error) {
			return db.Store.EditRotationMembers(ctx, "ops", now, func(cur []string) ([]string, error) { return append(cur, "dave"), nil })
		}, "bob", []string{"alice", "dave", "carol", "bob"}},
		{"remove the person on call", func() (store.Rotation, error) {
			return db.Store.SetRotationMembers(ctx, "ops", []string{"carol", "alice", "dave"}, now)
		}, "alice", []string{"dave", "carol", "alice"}},
	}
	for _, st := range steps {
		r, err := st.edit()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		oc, err := db.Store.OnCall(ctx, "ops", now)
		if err != nil {
			t.Fatal(err)
		}
		if oc.User != st.nowUser {
			t.Fatalf("%s: %s is on call now, want %s", st.name, oc.User, st.nowUser)
		}
		var next []string
		at := oc.Until
		for range st.next {
			o, err := db.Store.OnCall(ctx, "ops", at)
			if err != nil {
				t.Fatal(err)
			}
			next = append(next, o.User)
			at = o.Until
		}
		if !slices.Equal(next, st.next) {
			t.Errorf("%s: next shifts %v, want %v (members %v)", st.name, next, st.next, r.Handles())
		}
	}
	before, _ := db.Store.Rotation(ctx, "ops")
	_, err := db.Store.SetRotationMembers(ctx, "ops", nil, now)
	wantCode(t, err, klaxon.EInvalid, "at least one member")
	_, err = db.Store.SetRotationMembers(ctx, "ops", []string{"alice", "ghost"}, now)
	wantCode(t, err, klaxon.EInvalid, `no user with the handle "ghost"`)
	after, _ := db.Store.Rotation(ctx, "ops")
	if !slices.Equal(before.Handles(), after.Handles()) || before.Version != after.Version {
		t.Fatalf("a refused edit changed the rotation: %v → %v", before.Handles(), after.Handles())
	}
}

func TestOverrides_WinAreListedAndRemoved(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice", "bob", "carol"})
	if _, err := db.Store.CreateRotation(ctx, dailyOps("alice", "bob")); err != nil {
		t.Fatal(err)
	}
	now := rotStart.Add(time.Hour)
	o, err := db.Store.AddOverride(ctx, "ops", store.NewOverride{User: "carol", Start: rotStart.Add(2 * time.Hour), End: rotStart.Add(5 * time.Hour)}, now)
	if err != nil {
		t.Fatal(err)
	}
	if o.ID == 0 || o.User != "carol" || o.Rotation != "ops" {
		t.Fatalf("override %+v", o)
	}
	oc, err := db.Store.OnCall(ctx, "ops", rotStart.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if oc.User != "carol" || oc.ScheduledUser != "alice" || oc.OverrideID != o.ID || !oc.Until.Equal(rotStart.Add(5*time.Hour)) || oc.UserID == 0 {
		t.Fatalf("during the override: %+v", oc)
	}
	ovs, err := db.Store.Overrides(ctx, "ops", now)
	if err != nil || len(ovs) != 1 || ovs[0].ID != o.ID {
		t.Fatalf("Overrides = %+v, %v", ovs, err)
	}
	if ovs, _ := db.Store.Overrides(ctx, "ops", rotStart.Add(6*time.Hour)); len(ovs) != 0 {
		t.Fatalf("overrides that are over are listed from later on: %+v", ovs)
	}
	got, err := db.Store.DeleteOverride(ctx, "ops", o.ID)
	if err != nil || got.ID != o.ID || got.User != "carol" {
		t.Fatalf("DeleteOverride = %+v, %v", got, err)
	}
	_, err = db.Store.DeleteOverride(ctx, "ops", o.ID)
	wantCode(t, err, klaxon.ENotFound, "has no override")
	if oc, _ := db.Store.OnCall(ctx, "ops", rotStart.Add(3*time.Hour)); oc.User != "alice" {
		t.Fatalf("after removing the override %s is on call", oc.User)
	}
}

func TestAddOverride_RefusesBadOrOverlappingCovers(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice", "bob"})
	if _, err := db.Store.CreateRotation(ctx, dailyOps("alice", "bob")); err != nil {
		t.Fatal(err)
	}
	now := rotStart
	h := func(n int) time.Time { return rotStart.Add(time.Duration(n) * time.Hour) }
	if _, err := db.Store.AddOverride(ctx, "ops", store.NewOverride{User: "bob", Start: h(10), End: h(20)}, now); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		rotation string
		o        store.NewOverride
		code     klaxon.ErrorCode
		text     string
	}{
		{"inverted", "ops", store.NewOverride{User: "bob", Start: h(30), End: h(29)}, klaxon.EInvalid, "must end after it starts"},
		{"empty", "ops", store.NewOverride{User: "bob", Start: h(30), End: h(30)}, klaxon.EInvalid, "must end after it starts"},
		{"already over", "ops", store.NewOverride{User: "bob", Start: h(-5), End: h(-1)}, klaxon.EInvalid, "ends in the past"},
		{"unknown user", "ops", store.NewOverride{User: "zed", Start: h(30), End: h(31)}, klaxon.EInvalid, `no user with the handle "zed"`},
		{"overlapping the end", "ops", store.NewOverride{User: "alice", Start: h(19), End: h(25)}, klaxon.EConflict, "overlaps override"},
		{"inside", "ops", store.NewOverride{User: "alice", Start: h(12), End: h(13)}, klaxon.EConflict, "bob covers from Mon 2 Mar 20:00 CET to Tue 3 Mar 06:00 CET"},
		{"unknown rotation", "nope", store.NewOverride{User: "alice", Start: h(30), End: h(31)}, klaxon.ENotFound, "no rotation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.Store.AddOverride(ctx, tt.rotation, tt.o, now)
			wantCode(t, err, tt.code, tt.text)
		})
	}
	// Adjacent covers are fine: ends are exclusive.
	if _, err := db.Store.AddOverride(ctx, "ops", store.NewOverride{User: "alice", Start: h(20), End: h(22)}, now); err != nil {
		t.Fatalf("adjacent override: %v", err)
	}
	if ovs, _ := db.Store.Overrides(ctx, "ops", time.Time{}); len(ovs) != 2 {
		t.Fatalf("%d overrides, want 2", len(ovs))
	}
}

func TestAddOverride_ConcurrentOverlapsLetOneIn(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice", "bob"})
	if _, err := db.Store.CreateRotation(ctx, dailyOps("alice", "bob")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			start := rotStart.Add(time.Duration(10+i) * time.Minute)
			_, errs[i] = db.Store.AddOverride(ctx, "ops", store.NewOverride{User: "bob", Start: start, End: start.Add(time.Hour)}, rotStart)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if klaxon.ErrorCodeOf(err) != klaxon.EConflict {
			t.Errorf("concurrent add: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d overlapping overrides were added, want 1", ok)
	}
}

func TestDeleteRotation_TakesMembersAndOverrides(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice", "bob"})
	if _, err := db.Store.CreateRotation(ctx, dailyOps("alice", "bob")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.AddOverride(ctx, "ops", store.NewOverride{User: "bob", Start: rotStart, End: rotStart.Add(time.Hour)}, rotStart); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.DeleteRotation(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, db.Store.DeleteRotation(ctx, "ops"), klaxon.ENotFound, "no rotation")
	var n int
	_ = db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM rotation_members) + (SELECT count(*) FROM rotation_overrides)`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows left behind", n)
	}
	// The name is free again.
	if _, err := db.Store.CreateRotation(ctx, dailyOps("bob")); err != nil {
		t.Fatal(err)
	}
}

func TestUpdateRotation_ChangesTheReminder(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	rotationUsers(t, db.Store, []string{"alice"})
	r, err := db.Store.CreateRotation(ctx, dailyOps("alice"))
	if err != nil {
		t.Fatal(err)
	}
	off := time.Duration(0)
	got, err := db.Store.UpdateRotation(ctx, "ops", store.RotationSettings{Reminder: &off})
	if err != nil || got.Reminder != 0 || got.Version <= r.Version {
		t.Fatalf("UpdateRotation = %+v, %v", got, err)
	}
	bad := 8 * 24 * time.Hour
	_, err = db.Store.UpdateRotation(ctx, "ops", store.RotationSettings{Reminder: &bad})
	wantCode(t, err, klaxon.EInvalid, "reminder")
}

func TestUnreachable_ListsMembersWithoutAVerifiedMethod(t *testing.T) {
	db := testenv.Postgres(t)
	rotationUsers(t, db.Store, []string{"alice", "bob", "carol"}, "bob")
	got, err := db.Store.Unreachable(context.Background(), []string{"carol", "bob", "alice"})
	if err != nil || !slices.Equal(got, []string{"carol", "alice"}) {
		t.Fatalf("Unreachable = %v, %v; want [carol alice]", got, err)
	}
}
