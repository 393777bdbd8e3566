package directory_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/directory"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

// personLDIF is one inetOrgPerson under ou=people; empty values are left
// out.
func personLDIF(uid, cn, mobile, mail string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\n", uid, testenv.SlapdPeople, uid, cn, cn)
	if mobile != "" {
		fmt.Fprintf(&b, "mobile: %s\n", mobile)
	}
	if mail != "" {
		fmt.Fprintf(&b, "mail: %s\n", mail)
	}
	return b.String() + "\n"
}

func syncer(t *testing.T, db *testenv.DB, ldapURL string) *directory.Syncer {
	t.Helper()
	m, err := directory.ParseMapping(directory.DefaultMapping)
	if err != nil {
		t.Fatal(err)
	}
	return &directory.Syncer{Store: db.Store, Logger: testenv.Logger(t), Config: directory.Config{
		URL: ldapURL, BindDN: testenv.SlapdReaderDN, BindPassword: testenv.SlapdReaderPW,
		BaseDN: testenv.SlapdPeople, Filter: directory.DefaultFilter, Mapping: m,
		DefaultTimezone: "Europe/Berlin", Region: "US",
	}}
}

func handles(cs []directory.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Handle)
	}
	slices.Sort(out)
	return out
}

// contactsOf returns "type:address:status" of a user's contact methods.
func contactsOf(t *testing.T, db *testenv.DB, handle string) []string {
	t.Helper()
	ctx := context.Background()
	u, err := db.Store.UserByHandle(ctx, handle)
	if err != nil {
		t.Fatalf("user %s: %v", handle, err)
	}
	cs, err := db.Store.Contacts(ctx, u.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		out = append(out, string(c.Type)+":"+c.Address+":"+c.Status)
	}
	slices.Sort(out)
	return out
}

func mustSync(t *testing.T, s *directory.Syncer) directory.Report {
	t.Helper()
	r, err := s.Sync(context.Background())
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	return r
}

// TestSync_Lifecycle follows people through the directory against a real
// slapd: added with verified contacts (numbers written with spaces, dashes
// and parentheses normalised), a garbage number reported and skipped, an
// uppercase uid lowercased, an API user left alone, a resync that changes
// nothing, an edited entry updated, a deleted entry deactivated and, when
// it returns, reactivated.
func TestSync_Lifecycle(t *testing.T) {
	ctx := context.Background()
	db := testenv.Postgres(t)
	seed := personLDIF("alice", "Alice Liddell", "+1 (415) 555-0101", "alice@example.com") +
		personLDIF("bob", "Bob Dobbs", "415 555 0102", "") +
		personLDIF("Carol", "Carol Danvers", "call me maybe", "carol@example.com") +
		personLDIF("dave", "Dave Null", "", "not-an-address")
	ldap := testenv.StartSlapd(t, seed)
	s := syncer(t, db, ldap.URL)

	// An API user with her own, pending number: never touched.
	eve, err := db.Store.CreateUser(ctx, store.User{Handle: "eve", Name: "Eve", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.AddContact(ctx, store.Contact{UserID: eve.ID, Type: "sms", Address: "+14155550199"}); err != nil {
		t.Fatal(err)
	}

	r := mustSync(t, s)
	if got, want := handles(r.Added), []string{"alice", "bob", "carol", "dave"}; !slices.Equal(got, want) {
		t.Fatalf("added %v, want %v (report %+v)", got, want, r)
	}
	if got, want := contactsOf(t, db, "alice"), []string{"email:alice@example.com:verified", "sms:+14155550101:verified", "voice:+14155550101:verified"}; !slices.Equal(got, want) {
		t.Errorf("alice's contacts = %v, want %v", got, want)
	}
	if got, want := contactsOf(t, db, "bob"), []string{"sms:+14155550102:verified", "voice:+14155550102:verified"}; !slices.Equal(got, want) {
		t.Errorf("bob's contacts = %v, want %v", got, want)
	}
	if got, want := contactsOf(t, db, "carol"), []string{"email:carol@example.com:verified"}; !slices.Equal(got, want) {
		t.Errorf("carol's contacts = %v, want %v (her garbage number skipped)", got, want)
	}
	var skipped []string
	for _, sk := range r.Skipped {
		skipped = append(skipped, sk.Handle+"/"+sk.Field)
		if strings.Contains(sk.Reason, "call me") {
			t.Errorf("a skip quotes the number: %q", sk.Reason)
		}
	}
	slices.Sort(skipped)
	if want := []string{"carol/mobile", "dave/email"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want %v (%+v)", skipped, want, r.Skipped)
	}
	alice, err := db.Store.UserByHandle(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if alice.Source != store.SourceLDAP || alice.Name != "Alice Liddell" || alice.Nick != "alice" ||
		alice.Timezone != "Europe/Berlin" || alice.LDAPDN != "uid=alice,"+testenv.SlapdPeople || !alice.Active {
		t.Errorf("alice = %+v", alice)
	}

	// Nothing changed: nothing is written.
	r = mustSync(t, s)
	if r.Changed() || r.Counts.Unchanged != 4 {
		t.Errorf("a no-change resync reported %+v", r.Counts)
	}

	// Alice changes number and name, and adds a number of her own.
	if _, err := db.Store.AddContact(ctx, store.Contact{UserID: alice.ID, Type: "sms", Address: "+14155550177"}); err != nil {
		t.Fatal(err)
	}
	ldap.Modify(t, "dn: uid=alice,"+testenv.SlapdPeople+"\nchangetype: modify\nreplace: mobile\nmobile: +1-415-555-0111\n-\nreplace: cn\ncn: Alice Kingsleigh\n")
	r = mustSync(t, s)
	if len(r.Updated) != 1 || r.Updated[0].Handle != "alice" || !slices.Equal(r.Updated[0].Fields, []string{"name", "mobile"}) {
		t.Fatalf("updated %+v, want alice's name and mobile", r.Updated)
	}
	if got, want := contactsOf(t, db, "alice"), []string{"email:alice@example.com:verified", "sms:+14155550111:verified",
		"sms:+14155550177:pending", "voice:+14155550111:verified"}; !slices.Equal(got, want) {
		t.Errorf("alice's contacts = %v, want %v (her own kept, the old directory number replaced)", got, want)
	}

	// Bob leaves.
	ldap.Modify(t, "dn: uid=bob,"+testenv.SlapdPeople+"\nchangetype: delete\n")
	r = mustSync(t, s)
	if got := handles(r.Deactivated); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("deactivated %v, want bob", got)
	}
	bob, err := db.Store.UserByHandle(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if bob.Active || bob.DeactivatedAt == nil {
		t.Errorf("bob = %+v, want deactivated", bob)
	}
	if got := contactsOf(t, db, "bob"); len(got) != 2 {
		t.Errorf("bob's contacts = %v: history and contacts are kept", got)
	}
	e, err := db.Store.UserByHandle(ctx, "eve")
	if err != nil {
		t.Fatal(err)
	}
	if !e.Active || e.Source != store.SourceAPI {
		t.Errorf("the API user eve = %+v, want untouched", e)
	}
	if got := contactsOf(t, db, "eve"); !slices.Equal(got, []string{"sms:+14155550199:pending"}) {
		t.Errorf("eve's contacts = %v, want untouched", got)
	}

	// Bob comes back.
	ldap.Modify(t, "dn: uid=bob,"+testenv.SlapdPeople+"\nchangetype: add\nobjectClass: inetOrgPerson\nuid: bob\ncn: Bob Dobbs\nsn: Dobbs\nmobile: (415) 555-0102\n")
	r = mustSync(t, s)
	if got := handles(r.Reactivated); !slices.Equal(got, []string{"bob"}) {
		t.Fatalf("reactivated %v, want bob (%+v)", got, r.Counts)
	}
	if bob, _ = db.Store.UserByHandle(ctx, "bob"); !bob.Active || bob.DeactivatedAt != nil {
		t.Errorf("bob = %+v, want active again", bob)
	}
}

// TestSync_PagesPastTheSizeLimit: the server returns at most
// SlapdSizeLimit entries per search to the service account; a paged search
// reads them all.
func TestSync_PagesPastTheSizeLimit(t *testing.T) {
	db := testenv.Postgres(t)
	var seed strings.Builder
	n := testenv.SlapdSizeLimit*2 + 17
	for i := range n {
		seed.WriteString(personLDIF(fmt.Sprintf("user%03d", i), fmt.Sprintf("User %d", i), fmt.Sprintf("+1415555%04d", 1000+i), ""))
	}
	ldap := testenv.StartSlapd(t, seed.String())
	s := syncer(t, db, ldap.URL)
	s.Config.PageSize = 50
	r := mustSync(t, s)
	if r.Entries != n || r.Counts.Added != n {
		t.Fatalf("read %d entries, added %d; want %d", r.Entries, r.Counts.Added, n)
	}
	if len(r.Added) != min(n, directory.MaxListed) {
		t.Errorf("the report lists %d people, want at most %d", len(r.Added), directory.MaxListed)
	}
}

// TestSync_Faults: a refused bind, a server that is down, a base DN that
// does not exist and a search that finds nobody each fail with one clear
// sentence, classified, and change nothing.
func TestSync_Faults(t *testing.T) {
	db := testenv.Postgres(t)
	ldap := testenv.StartSlapd(t, personLDIF("alice", "Alice", "+14155550101", ""))
	mustSync(t, syncer(t, db, ldap.URL))

	cases := []struct {
		name      string
		edit      func(c *directory.Config)
		kind      string
		retryable bool
		says      string
	}{
		{"wrong bind password", func(c *directory.Config) { c.BindPassword = "wrong" }, directory.KindBind, false, "refused the bind as " + testenv.SlapdReaderDN + ": invalid credentials"},
		{"no such base DN", func(c *directory.Config) { c.BaseDN = "ou=nobody,dc=example,dc=com" }, directory.KindSearch, false, "check KLAXON_LDAP_BASE_DN"},
		{"a filter that finds nobody", func(c *directory.Config) { c.Filter = "(uid=nobody)" }, directory.KindEmpty, false, "left active"},
		{"bad filter", func(c *directory.Config) { c.Filter = "(uid=" }, directory.KindSearch, false, "KLAXON_LDAP_FILTER"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := syncer(t, db, ldap.URL)
			c.edit(&s.Config)
			_, err := s.Sync(context.Background())
			var de *directory.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *directory.Error", err)
			}
			if de.Kind != c.kind || de.Retryable != c.retryable || !strings.Contains(de.Message, c.says) {
				t.Errorf("err = %+v, want kind %s retryable %v saying %q", de, c.kind, c.retryable, c.says)
			}
		})
	}

	t.Run("server down", func(t *testing.T) {
		ldap.Stop()
		_, err := syncer(t, db, ldap.URL).Sync(context.Background())
		var de *directory.Error
		if !errors.As(err, &de) || de.Kind != directory.KindUnreachable || !de.Retryable ||
			!strings.Contains(de.Message, "cannot be reached") || !strings.Contains(de.Message, ldap.URL) {
			t.Fatalf("err = %v, want a retryable unreachable error naming %s", err, ldap.URL)
		}
	})
	u, err := db.Store.UserByHandle(context.Background(), "alice")
	if err != nil || !u.Active {
		t.Errorf("alice = %+v, %v: a failed sync must change nothing", u, err)
	}
}

// TestSync_NotConfigured: no URL, a clear error.
func TestSync_NotConfigured(t *testing.T) {
	db := testenv.Postgres(t)
	_, err := (&directory.Syncer{Store: db.Store}).Sync(context.Background())
	var de *directory.Error
	if !errors.As(err, &de) || de.Kind != directory.KindNotConfigured || !strings.Contains(de.Message, "KLAXON_LDAP_URL") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseMapping(t *testing.T) {
	cases := []struct {
		in   string
		want directory.Mapping
		err  bool
	}{
		{"", directory.Mapping{Handle: "uid", Name: "cn", Nick: "uid", Mobile: "mobile", Email: "mail"}, false},
		{directory.DefaultMapping, directory.Mapping{Handle: "uid", Name: "cn", Nick: "uid", Mobile: "mobile", Email: "mail"}, false},
		{"handle=sAMAccountName,mobile=telephoneNumber,timezone=tz", directory.Mapping{Handle: "sAMAccountName", Name: "cn", Nick: "uid", Mobile: "telephoneNumber", Email: "mail", Timezone: "tz"}, false},
		{"email=", directory.Mapping{Handle: "uid", Name: "cn", Nick: "uid", Mobile: "mobile"}, false},
		{"handle=", directory.Mapping{}, true},
		{"pager=pager", directory.Mapping{}, true},
		{"name", directory.Mapping{}, true},
		{"name=c n", directory.Mapping{}, true},
	}
	for _, c := range cases {
		got, err := directory.ParseMapping(c.in)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("ParseMapping(%q) = %+v, %v", c.in, got, err)
		}
	}
}
