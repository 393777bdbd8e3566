package store_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

func fmtInt(n int64) string { return strconv.FormatInt(n, 10) }

func TestPolicyValidate_RefusesWhatCannotEscalate(t *testing.T) {
	step := func(delay int, targets ...string) paging.PolicyStep {
		return paging.PolicyStep{Targets: targets, DelaySeconds: delay}
	}
	tests := []struct {
		name string
		p    paging.Policy
		ok   bool
	}{
		{"good", paging.Policy{Name: "db", Repeat: 1, Steps: []paging.PolicyStep{step(60, "user:alice"), step(120, "rotation:ops", "user:bob")}}, true},
		{"default delay", paging.Policy{Name: "db", Steps: []paging.PolicyStep{step(0, "user:alice")}}, true},
		{"no name", paging.Policy{Steps: []paging.PolicyStep{step(60, "user:alice")}}, false},
		{"bad name", paging.Policy{Name: "DB!", Steps: []paging.PolicyStep{step(60, "user:alice")}}, false},
		{"no steps", paging.Policy{Name: "db"}, false},
		{"empty step", paging.Policy{Name: "db", Steps: []paging.PolicyStep{step(60)}}, false},
		{"policy in a step", paging.Policy{Name: "db", Steps: []paging.PolicyStep{step(60, "policy:other")}}, false},
		{"duplicate target", paging.Policy{Name: "db", Steps: []paging.PolicyStep{step(60, "user:a", "user:a")}}, false},
		{"negative repeat", paging.Policy{Name: "db", Repeat: -1, Steps: []paging.PolicyStep{step(60, "user:a")}}, false},
		{"huge delay", paging.Policy{Name: "db", Steps: []paging.PolicyStep{step(86401, "user:a")}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.p.Validate()
			if tc.ok != (err == nil) {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
				t.Fatalf("error %v is not EInvalid", err)
			}
		})
	}
}

func TestCreatePolicy_RoundTripsStepsInOrder(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	p := paging.Policy{Name: "db", Repeat: 2, Steps: []paging.PolicyStep{
		{Targets: []string{"user:alice"}, DelaySeconds: 60},
		{Targets: []string{"rotation:ops", "user:bob", "user:carol"}, DelaySeconds: 300},
	}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	created, err := db.Store.CreatePolicy(ctx, p)
	if err != nil || created.ID == 0 {
		t.Fatalf("create: %+v %v", created, err)
	}
	if _, err := db.Store.CreatePolicy(ctx, p); klaxon.ErrorCodeOf(err) != klaxon.EConflict {
		t.Errorf("same name again: %v, want EConflict", err)
	}
	got, err := db.Store.PolicyByName(ctx, "db")
	if err != nil {
		t.Fatal(err)
	}
	if got.Repeat != 2 || len(got.Steps) != 2 || got.Steps[0].DelaySeconds != 60 || got.Steps[1].DelaySeconds != 300 {
		t.Fatalf("policy = %+v", got)
	}
	if ts := got.Steps[1].Targets; len(ts) != 3 || ts[0] != "rotation:ops" || ts[1] != "user:bob" || ts[2] != "user:carol" {
		t.Errorf("step 2 targets = %v", ts)
	}
	if _, err := db.Store.PolicyByName(ctx, "nope"); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Errorf("missing policy: %v", err)
	}
	second := paging.Policy{Name: "api", Steps: []paging.PolicyStep{{Targets: []string{"user:bob"}, DelaySeconds: 30}}}
	if _, err := db.Store.CreatePolicy(ctx, second); err != nil {
		t.Fatal(err)
	}
	all, err := db.Store.ListPolicies(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "api" || all[1].Name != "db" || len(all[1].Steps) != 2 {
		t.Fatalf("list: %+v %v", all, err)
	}
}

func TestNotificationRules_DefaultsUntilSet(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	u, err := db.Store.CreateUser(ctx, store.User{Handle: "alice", Name: "Alice", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := db.Store.NotificationRules(ctx, u.ID)
	if err != nil || len(rules) != 3 || rules[0].Medium != klaxon.SMS || rules[1].DelaySeconds != 120 || rules[2].Medium != klaxon.Email {
		t.Fatalf("defaults: %+v %v", rules, err)
	}
	set := []paging.NotificationRule{{Medium: klaxon.Email, DelaySeconds: 0}, {Medium: klaxon.Voice, DelaySeconds: 30}, {Medium: klaxon.SMS, DelaySeconds: 0}}
	if err := db.Store.SetNotificationRules(ctx, u.ID, set); err != nil {
		t.Fatal(err)
	}
	rules, err = db.Store.NotificationRules(ctx, u.ID)
	if err != nil || len(rules) != 3 || rules[0].Medium != klaxon.SMS || rules[1].Medium != klaxon.Email || rules[2].Medium != klaxon.Voice {
		t.Fatalf("after set: %+v %v; want sms@0, email@0, voice@30", rules, err)
	}
	if err := db.Store.SetNotificationRules(ctx, u.ID, []paging.NotificationRule{{Medium: "pigeon"}}); klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
		t.Errorf("unknown medium: %v", err)
	}
}

func TestReachability_VerifiedContactsAndRulesInOneTrip(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	u, err := db.Store.CreateUser(ctx, store.User{Handle: "alice", Name: "Alice", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []store.Contact{
		{UserID: u.ID, Type: klaxon.Email, Address: "alice@example.com"},
		{UserID: u.ID, Type: klaxon.SMS, Address: "+15555550123"},
		{UserID: u.ID, Type: klaxon.Voice, Address: "+15555550999"},
	} {
		added, err := db.Store.AddContact(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if c.Type != klaxon.Voice {
			if err := db.Store.MarkContactVerified(ctx, added.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	contacts, rules, err := db.Store.Reachability(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(contacts) != 2 || contacts[0].Type != klaxon.SMS || contacts[1].Type != klaxon.Email {
		t.Errorf("contacts = %+v, want the verified sms then email", contacts)
	}
	if len(rules) != 3 || rules[1].Medium != klaxon.Voice {
		t.Errorf("rules = %+v, want the defaults", rules)
	}
}
