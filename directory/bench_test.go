package directory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/directory"
	"github.com/klaxonhq/klaxon/internal/testenv"
)

const benchPeople = 5000

// benchDirectory is a real slapd with benchPeople people (each a mobile
// written with spaces and dashes, and a mail), and an empty database.
func benchDirectory(b *testing.B) (*testenv.DB, *directory.Syncer) {
	b.Helper()
	var seed strings.Builder
	for i := range benchPeople {
		fmt.Fprintf(&seed, "dn: uid=p%05d,%s\nobjectClass: inetOrgPerson\nuid: p%05d\ncn: Person %d\nsn: %d\nmobile: +1 415-55%d-%04d\nmail: p%05d@example.com\n\n",
			i, testenv.SlapdPeople, i, i, i, 5+i/10000, i%10000, i)
	}
	ldap := testenv.StartSlapd(b, seed.String())
	db := testenv.Postgres(b)
	m, err := directory.ParseMapping(directory.DefaultMapping)
	if err != nil {
		b.Fatal(err)
	}
	return db, &directory.Syncer{Store: db.Store, Config: directory.Config{
		URL: ldap.URL, BindDN: testenv.SlapdReaderDN, BindPassword: testenv.SlapdReaderPW,
		BaseDN: testenv.SlapdPeople, Mapping: m, DefaultTimezone: "UTC", Region: "US", PageSize: testenv.SlapdSizeLimit,
	}}
}

// BenchmarkSync_5000People: the first synchronisation of 5,000 people
// into an empty Klaxon: a paged search of 50 pages, 5,000 users and 15,000
// verified contact methods written.
func BenchmarkSync_5000People(b *testing.B) {
	db, s := benchDirectory(b)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		if _, err := db.Pool.Exec(ctx, `DELETE FROM users WHERE source = 'ldap'`); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := s.Sync(ctx)
		if err != nil || r.Counts.Added != benchPeople {
			b.Fatalf("sync: %+v, %v", r.Counts, err)
		}
	}
	b.ReportMetric(float64(benchPeople)*float64(b.N)/b.Elapsed().Seconds(), "people/s")
}

// BenchmarkResync_5000Unchanged: a synchronisation of the same 5,000
// people with nothing changed: the search, one read of Klaxon's directory
// users, and no write.
func BenchmarkResync_5000Unchanged(b *testing.B) {
	_, s := benchDirectory(b)
	ctx := context.Background()
	if _, err := s.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		r, err := s.Sync(ctx)
		if err != nil || r.Changed() || r.Counts.Unchanged != benchPeople {
			b.Fatalf("resync: %+v, %v", r.Counts, err)
		}
	}
}
