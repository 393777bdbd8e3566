package store_test

import (
	"context"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

func TestUsers_NickDefaultsToHandleAndIsUniqueWithoutCase(t *testing.T) {
	s := testenv.Postgres(t).Store
	ctx := context.Background()
	alice := newUser(t, s, "alice")
	if alice.Nick != "alice" || alice.Source != store.SourceAPI || !alice.Active {
		t.Fatalf("new user = %+v, want nick alice, source api, active", alice)
	}
	if _, err := s.CreateUser(ctx, store.User{Handle: "alice2", Name: "A2", Timezone: "UTC", Nick: "ALICE"}); klaxon.ErrorCodeOf(err) != klaxon.EConflict {
		t.Fatalf("second ALICE nick: err = %v, want a conflict", err)
	}
	got, err := s.UserByNick(ctx, "AlIcE")
	if err != nil || got.ID != alice.ID {
		t.Fatalf("UserByNick(AlIcE) = %+v, %v; want alice", got, err)
	}
	if _, err := s.UserByNick(ctx, "nobody"); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Fatalf("UserByNick(nobody) err = %v, want not found", err)
	}
}

func TestUpdateUser_ChangesOnlyWhatIsGiven(t *testing.T) {
	s := testenv.Postgres(t).Store
	ctx := context.Background()
	newUser(t, s, "bob")
	carol := newUser(t, s, "carol")
	nick, mx := "bobby", "@bob:example.org"
	u, err := s.UpdateUser(ctx, "bob", store.UserPatch{Nick: &nick, MatrixID: &mx})
	if err != nil {
		t.Fatal(err)
	}
	if u.Nick != "bobby" || u.MatrixID != mx || u.Name != "bob" || u.Timezone != "UTC" {
		t.Fatalf("after patch: %+v", u)
	}
	if got, err := s.UserByMatrixID(ctx, mx); err != nil || got.Handle != "bob" {
		t.Fatalf("UserByMatrixID = %+v, %v", got, err)
	}
	// A taken Matrix id is a conflict and changes nothing.
	if _, err := s.UpdateUser(ctx, "carol", store.UserPatch{MatrixID: &mx}); klaxon.ErrorCodeOf(err) != klaxon.EConflict {
		t.Fatalf("taken matrix id: err = %v, want a conflict", err)
	}
	if got, _ := s.UserByHandle(ctx, "carol"); got.MatrixID != "" || got.Nick != carol.Nick {
		t.Fatalf("carol changed by a refused patch: %+v", got)
	}
	// Deactivation stamps the time; reactivation clears it; an empty
	// Matrix id unlinks.
	off, on, none := false, true, ""
	u, err = s.UpdateUser(ctx, "bob", store.UserPatch{Active: &off, MatrixID: &none})
	if err != nil || u.Active || u.DeactivatedAt == nil || u.MatrixID != "" {
		t.Fatalf("deactivate: %+v, %v", u, err)
	}
	u, err = s.UpdateUser(ctx, "bob", store.UserPatch{Active: &on})
	if err != nil || !u.Active || u.DeactivatedAt != nil {
		t.Fatalf("reactivate: %+v, %v", u, err)
	}
	if _, err := s.UpdateUser(ctx, "nobody", store.UserPatch{Active: &on}); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Fatalf("unknown user: err = %v, want not found", err)
	}
}
