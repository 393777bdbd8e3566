package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// pagingFixture is a database with people to page.
type pagingFixture struct {
	db *testenv.DB
	p  *activities.Paging
}

func newPagingFixture(t *testing.T) *pagingFixture {
	t.Helper()
	db := testenv.Postgres(t)
	return &pagingFixture{db: db, p: &activities.Paging{Store: db.Store, Logger: testenv.Logger(t)}}
}

// person adds a user; contacts are "sms:+1...", "voice:+1...",
// "email:a@b", with a "?" suffix for one left unverified.
func (f *pagingFixture) person(t *testing.T, handle string, contacts ...string) store.User {
	t.Helper()
	ctx := context.Background()
	u, err := f.db.Store.CreateUser(ctx, store.User{Handle: handle, Name: handle, Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range contacts {
		pending := strings.HasSuffix(c, "?")
		m, addr, _ := strings.Cut(strings.TrimSuffix(c, "?"), ":")
		added, err := f.db.Store.AddContact(ctx, store.Contact{UserID: u.ID, Type: klaxon.Medium(m), Address: addr})
		if err != nil {
			t.Fatal(err)
		}
		if !pending {
			if err := f.db.Store.MarkContactVerified(ctx, added.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	return u
}

func (f *pagingFixture) page(t *testing.T, target string) paging.Page {
	t.Helper()
	p, _, err := f.db.Store.CreatePage(context.Background(), paging.Page{Target: target, Summary: "derp is broken"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBeginStep_ResolvesPeopleAndSkipsWhoCannotBeReached(t *testing.T) {
	f := newPagingFixture(t)
	ctx := context.Background()
	f.person(t, "alice", "sms:+15555550123", "voice:+15555550123", "email:alice@example.com", "sms:+15555550999?")
	f.person(t, "carol", "sms:+15555550125?")
	pg := f.page(t, "policy:db")
	in := activities.StepInput{PageID: pg.ID, Step: 2, Targets: []string{"user:alice", "user:carol", "user:ghost", "rotation:nope", "user:alice"}}
	plan, err := f.p.BeginStep(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.People) != 1 || plan.People[0].Handle != "alice" || len(plan.People[0].Contacts) != 3 {
		t.Fatalf("people = %+v, want alice once with her three verified contacts", plan.People)
	}
	cs := plan.People[0].Contacts
	if cs[0].Medium != klaxon.SMS || cs[0].Code != 1 || cs[1].Medium != klaxon.Voice || cs[1].Code != 1 || cs[2].Code != 0 {
		t.Errorf("contacts = %+v: the phone (texts and calls) shares code 1; email has none", cs)
	}
	if len(plan.People[0].Rules) != 3 {
		t.Errorf("rules = %+v, want the defaults", plan.People[0].Rules)
	}
	reasons := map[string]string{}
	for _, s := range plan.Skipped {
		reasons[s.Target] = s.Reason
	}
	for target, want := range map[string]string{
		"user:carol": "carol has no verified contact method", "user:ghost": `There is no user "ghost"`, "rotation:nope": "rotation",
	} {
		if !strings.Contains(reasons[target], want) {
			t.Errorf("skip of %s: %q, want it to say %q", target, reasons[target], want)
		}
	}
	if len(plan.Events) != 4 || plan.Events[0].Kind != paging.EventStep || !strings.HasPrefix(plan.Events[0].Detail, "step 3:") {
		t.Errorf("events = %+v, want the step then three skips", plan.Events)
	}
	again, err := f.p.BeginStep(ctx, in)
	if err != nil || again.People[0].Contacts[0].Code != 1 {
		t.Errorf("a repeated step changed the reply code: %+v %v", again, err)
	}
}

func TestFindReplyTarget_NamesThePageOrSaysWhyNot(t *testing.T) {
	f := newPagingFixture(t)
	ctx := context.Background()
	const alice, lapsed = "+15555550123", "+15555550124"
	u := f.person(t, "alice", "sms:"+alice)
	f.person(t, "bob", "sms:"+lapsed+"?")
	pg := f.page(t, "user:alice")
	for _, phone := range []string{alice, lapsed} {
		if _, err := f.db.Store.AllocateReplyCode(ctx, pg.ID, phone, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	rt, err := f.p.FindReplyTarget(ctx, activities.ReplyInput{EventID: 7, From: alice, Code: 1, Text: "1a"})
	if err != nil || rt.Refusal != "" || rt.PageID != pg.ID || rt.By != "alice" || rt.Status != paging.StatusOpen {
		t.Fatalf("alice's 1a: %+v %v", rt, err)
	}
	rt, err = f.p.FindReplyTarget(ctx, activities.ReplyInput{EventID: 8, From: alice, Code: 9, Text: "9a"})
	if err != nil || rt.Refusal != "nopage" || len(rt.OpenCodes) != 1 || rt.OpenCodes[0] != 1 {
		t.Errorf("unknown code: %+v %v", rt, err)
	}
	// A number the page reached that is not (or no longer) a verified
	// contact of anyone it reached is refused.
	rt, err = f.p.FindReplyTarget(ctx, activities.ReplyInput{EventID: 9, From: lapsed, Code: 1, Text: "1a"})
	if err != nil || rt.Refusal != "stranger" {
		t.Errorf("unverified number: %+v %v", rt, err)
	}
	evs, err := f.db.Store.PageEvents(ctx, pg.ID)
	if err != nil {
		t.Fatal(err)
	}
	replies := 0
	for _, e := range evs {
		if e.Kind == paging.EventReply {
			replies++
		}
	}
	if replies != 1 {
		t.Errorf("%d replies in the timeline, want alice's only", replies)
	}
}

func TestRequestPage_FromAVerifiedSenderOnly(t *testing.T) {
	f := newPagingFixture(t)
	ctx := context.Background()
	const lincoln = "+15555550124"
	f.person(t, "alice", "sms:+15555550123")
	f.person(t, "alincoln", "sms:"+lincoln)
	f.person(t, "carol", "email:carol@example.com?")
	tests := []struct {
		name, from, handle, refusal string
	}{
		{"stranger", "+15555550999", "alice", "only people whose phone number is verified"},
		{"unknown handle", lincoln, "ghost", "there is no one called ghost"},
		{"nobody to reach", lincoln, "carol", "carol has no verified way to be reached"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rp, err := f.p.RequestPage(ctx, activities.RequestPageInput{EventID: int64(i + 1), From: tc.from, Handle: tc.handle, Message: "x"})
			if err != nil || !strings.Contains(rp.Refusal, tc.refusal) || rp.Page.ID != 0 {
				t.Errorf("%+v %v, want refusal %q", rp, err, tc.refusal)
			}
		})
	}
	in := activities.RequestPageInput{EventID: 40, From: lincoln, Handle: "alice", Message: "derp is broken"}
	rp, err := f.p.RequestPage(ctx, in)
	if err != nil || rp.Refusal != "" || !rp.Created || rp.Page.Mode != paging.ModeBlast || rp.Page.RequestedBy != "alincoln" || rp.Page.Target != "user:alice" {
		t.Fatalf("request: %+v %v", rp, err)
	}
	again, err := f.p.RequestPage(ctx, in)
	if err != nil || again.Created || again.Page.ID != rp.Page.ID {
		t.Errorf("the same text again made another page: %+v %v", again, err)
	}
}

// TestBeginStep_PassesOverDeactivatedPeople: a deactivated person is never
// paged. Named directly, the step skips them (and the page moves on to its
// next step); on call for a rotation, the next active member in the
// rotation's order is paged instead, and the timeline says so; a rotation
// of deactivated people only is skipped.
func TestBeginStep_PassesOverDeactivatedPeople(t *testing.T) {
	f := newPagingFixture(t)
	ctx := context.Background()
	for i, h := range []string{"alice", "bob", "carol"} {
		f.person(t, h, "sms:+1555555010"+string(rune('1'+i)))
	}
	start := time.Now().Add(-time.Hour).Truncate(time.Hour)
	if _, err := f.db.Store.CreateRotation(ctx, store.NewRotation{Name: "ops",
		Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob", "carol"}}}); err != nil {
		t.Fatal(err)
	}
	off := false
	deactivate := func(h string) {
		if _, err := f.db.Store.UpdateUser(ctx, h, store.UserPatch{Active: &off}); err != nil {
			t.Fatal(err)
		}
	}
	deactivate("alice") // on call now: the rotation started an hour ago with her
	pg := f.page(t, "rotation:ops")
	plan, err := f.p.BeginStep(ctx, activities.StepInput{PageID: pg.ID, Targets: []string{"user:alice", "rotation:ops"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.People) != 1 || plan.People[0].Handle != "bob" {
		t.Fatalf("people = %+v, want bob standing in for alice", plan.People)
	}
	var details []string
	for _, e := range plan.Events {
		details = append(details, e.Detail)
	}
	got := strings.Join(details, "\n")
	for _, want := range []string{
		"user:alice: alice is deactivated (no longer in the directory), so is paged no more.",
		"rotation:ops: alice is on call but deactivated (no longer in the directory); bob, next on the rotation, is paged instead.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("timeline %q lacks %q", got, want)
		}
	}

	deactivate("bob")
	deactivate("carol")
	plan, err = f.p.BeginStep(ctx, activities.StepInput{PageID: pg.ID, Step: 1, Targets: []string{"rotation:ops"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.People) != 0 || len(plan.Skipped) != 1 || !strings.Contains(plan.Skipped[0].Reason, "so is everyone else on it") {
		t.Fatalf("plan = %+v, want nobody paged and the rotation skipped", plan)
	}
}

// TestRequestPage_RefusesADeactivatedPerson: "get HANDLE now" by text
// answers that a deactivated person is paged no more, and a deactivated
// person's text pages nobody.
func TestRequestPage_RefusesADeactivatedPerson(t *testing.T) {
	f := newPagingFixture(t)
	ctx := context.Background()
	f.person(t, "alice", "sms:+15555550101")
	f.person(t, "bob", "sms:+15555550102")
	off := false
	if _, err := f.db.Store.UpdateUser(ctx, "bob", store.UserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	rp, err := f.p.RequestPage(ctx, activities.RequestPageInput{EventID: 1, From: "+15555550101", Handle: "bob", Message: "help"})
	if err != nil {
		t.Fatal(err)
	}
	if rp.Page.ID != 0 || !strings.Contains(rp.Refusal, "paged no more") {
		t.Fatalf("requested page = %+v, want a refusal", rp)
	}
	// Nor does a deactivated person page anyone.
	rp, err = f.p.RequestPage(ctx, activities.RequestPageInput{EventID: 2, From: "+15555550102", Handle: "alice", Message: "help"})
	if err != nil {
		t.Fatal(err)
	}
	if rp.Page.ID != 0 || !strings.Contains(rp.Refusal, "only people whose phone number is verified") {
		t.Fatalf("a page asked for by deactivated bob = %+v, want a refusal", rp)
	}
}
