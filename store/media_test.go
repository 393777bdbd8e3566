package store_test

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
)

// TestSchema_MediumChecksAcceptExactlyTheKnownMedia fails when a medium is
// added to package klaxon without the migration that lets the schema hold
// it (or the other way round).
func TestSchema_MediumChecksAcceptExactlyTheKnownMedia(t *testing.T) {
	db := testenv.Postgres(t)
	var want []string
	for _, m := range klaxon.Media() {
		want = append(want, string(m))
	}
	slices.Sort(want)
	quoted := regexp.MustCompile(`'([a-z]+)'`)
	for _, name := range []string{"contact_methods_type_check", "messages_medium_check", "challenges_medium_check", "notification_rules_medium_check"} {
		var def string
		if err := db.Pool.QueryRow(context.Background(),
			`SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1`, name).Scan(&def); err != nil {
			t.Fatalf("constraint %s: %v", name, err)
		}
		var got []string
		for _, m := range quoted.FindAllStringSubmatch(def, -1) {
			got = append(got, m[1])
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s accepts %v; package klaxon knows %v", name, got, want)
		}
	}
}
