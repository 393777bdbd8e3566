package activities_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/store"
)

// TestHandoffMessages_TellADeactivatedPersonNothing: someone who left the
// directory gets no "you are on call" text; the handoff warns instead,
// and the outgoing person is still told.
func TestHandoffMessages_TellADeactivatedPersonNothing(t *testing.T) {
	f := newPagingFixture(t)
	ctx := context.Background()
	f.person(t, "alice", "sms:+15555550101")
	f.person(t, "bob", "sms:+15555550102")
	start := time.Now().Add(-time.Hour).Truncate(time.Hour).UTC()
	if _, err := f.db.Store.CreateRotation(ctx, store.NewRotation{Name: "ops",
		Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob"}}}); err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := f.db.Store.UpdateUser(ctx, "bob", store.UserPatch{Active: &off}); err != nil {
		t.Fatal(err)
	}
	r := &activities.Rotations{Store: f.db.Store, Logger: f.p.Logger}
	out, err := r.HandoffMessages(ctx, activities.HandoffMessagesInput{Rotation: "ops", At: start.Add(24 * time.Hour), Kind: activities.HandoffAnnounce})
	if err != nil {
		t.Fatal(err)
	}
	if out.Incoming != "bob" || len(out.Messages) != 1 || out.Messages[0].ToRef == "" || out.Messages[0].Subject != "Off call for ops" {
		t.Fatalf("handoff = %+v, want only alice told", out)
	}
	if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "bob is deactivated") {
		t.Errorf("warnings = %q, want bob named as deactivated", out.Warnings)
	}
}
