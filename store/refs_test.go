package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

func TestRefs_ClaimsResolveExpandAndAreTakenOnce(t *testing.T) {
	s := testenv.Postgres(t).Store
	ctx := context.Background()
	num, err := s.PutClaim(ctx, store.ClaimNumber, "+15555550123")
	if err != nil {
		t.Fatal(err)
	}
	words, err := s.PutClaim(ctx, store.ClaimText, "meet at the north gate")
	if err != nil {
		t.Fatal(err)
	}
	to, body, err := s.ResolveAndExpand(ctx, num, "[BROADCAST] {{"+words+"}} ({{"+num+"}})")
	if err != nil || to != "+15555550123" || body != "[BROADCAST] meet at the north gate (+15555550123)" {
		t.Fatalf("resolve and expand = %q, %q, %v", to, body, err)
	}
	if got, err := s.TakeClaim(ctx, words); err != nil || got != "meet at the north gate" {
		t.Fatalf("take = %q, %v", got, err)
	}
	if _, err := s.TakeClaim(ctx, words); err == nil {
		t.Fatal("a claim was taken twice")
	}
	for _, ref := range []string{words, "contact:99", "nothing:1", "member:x", "claim:"} {
		if _, err := s.Resolve(ctx, ref); !errors.Is(err, store.ErrBadRef) {
			t.Errorf("resolve %q: %v, want ErrBadRef", ref, err)
		}
	}
}
