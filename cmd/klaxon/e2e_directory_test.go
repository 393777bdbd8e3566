package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/workflows"
)

const directorySeed = `dn: uid=alice,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
mobile: +1 (415) 555-0101
mail: alice@example.com

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob Dobbs
sn: Dobbs
mobile: 415-555-0102

`

// directoryHarness is Klaxon configured with the directory at ldapURL,
// bound as the read-only service account with password.
func directoryHarness(t *testing.T, ldapURL, password string) *harness {
	t.Helper()
	h := newHarness(t, harnessOptions{Env: map[string]string{
		"KLAXON_LDAP_URL": ldapURL, "KLAXON_LDAP_BIND_DN": testenv.SlapdReaderDN, "KLAXON_LDAP_BIND_PASSWORD": password,
		"KLAXON_LDAP_BASE_DN": testenv.SlapdPeople, "KLAXON_LDAP_SYNC_INTERVAL": "1h",
	}})
	t.Cleanup(func() {
		_ = workflows.DeleteDirectorySchedule(context.Background(), h.temporal, h.cfg.TaskQueue)
	})
	return h
}

// TestDirectory_ScheduleAPIAndCLI: with a real slapd, the schedule created
// at start synchronises at once; `klaxon directory sync` then prints what
// changed after entries are edited and deleted; a deactivated person can no
// longer be paged; a resync with nothing new changes nothing; and with the
// server down the command fails with one clear line.
func TestDirectory_ScheduleAPIAndCLI(t *testing.T) {
	ldap := testenv.StartSlapd(t, directorySeed)
	h := directoryHarness(t, ldap.URL, testenv.SlapdReaderPW)
	ctx := context.Background()

	if _, err := h.temporal.ScheduleClient().GetHandle(ctx, workflows.DirectoryScheduleID(h.cfg.TaskQueue)).Describe(ctx); err != nil {
		t.Fatalf("the directory schedule was not created at start: %v", err)
	}
	h.eventually("the schedule's first sync to add alice and bob", func() bool {
		var u api.UserDetail
		return h.api("GET", "/api/v1/users/bob", nil, &u) == 200 && len(u.Contacts) == 2
	})
	var alice api.UserDetail
	h.api("GET", "/api/v1/users/alice", nil, &alice)
	if alice.Source != "ldap" || !alice.Active || len(alice.Contacts) != 3 {
		t.Fatalf("alice = %+v", alice)
	}
	for _, c := range alice.Contacts {
		if c.Status != "verified" || (c.Type != "email" && c.Address != "+14155550101") {
			t.Errorf("alice's contact %+v, want verified and normalised", c)
		}
	}

	ldap.Modify(t, "dn: uid=bob,"+testenv.SlapdPeople+"\nchangetype: modify\nreplace: mobile\nmobile: (415) 555-0112\n")
	ldap.Modify(t, "dn: uid=alice,"+testenv.SlapdPeople+"\nchangetype: delete\n")
	out, err := h.cli("directory", "sync")
	if err != nil {
		t.Fatalf("klaxon directory sync: %v", err)
	}
	for _, want := range []string{"1 directory entry read: 0 added, 1 updated, 1 deactivated", "Updated: bob (mobile)", "Deactivated (paged no more): alice"} {
		if !strings.Contains(out, want) {
			t.Errorf("klaxon directory sync printed %q, want %q", out, want)
		}
	}
	if _, status := h.createPage(t, map[string]any{"target": "user:alice", "summary": "derp is broken"}); status != 422 {
		t.Errorf("a page to deactivated alice answered %d, want 422", status)
	}
	out, err = h.cli("user", "list")
	if err != nil || !strings.Contains(out, "ldap (deactivated)") {
		t.Errorf("klaxon user list = %q, %v; want alice shown deactivated", out, err)
	}

	out, err = h.cli("directory", "sync", "--json")
	if err != nil {
		t.Fatalf("klaxon directory sync --json: %v", err)
	}
	var res api.DirectorySync
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if res.Counts != (api.DirectoryCounts{Unchanged: 1}) {
		t.Errorf("a resync with nothing new = %+v", res.Counts)
	}

	ldap.Stop()
	_, err = h.cli("directory", "sync")
	if err == nil || !strings.Contains(err.Error(), "cannot be reached") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("with the server down: %v, want one line saying it cannot be reached", err)
	}
}

// TestDirectory_BindRefusedAndNotConfigured: a wrong bind password and a
// Klaxon without a directory each answer one clear line.
func TestDirectory_BindRefusedAndNotConfigured(t *testing.T) {
	ldap := testenv.StartSlapd(t, directorySeed)
	h := directoryHarness(t, ldap.URL, "wrong")
	_, err := h.cli("directory", "sync")
	if err == nil || !strings.Contains(err.Error(), "refused the bind as "+testenv.SlapdReaderDN+": invalid credentials") {
		t.Fatalf("wrong password: %v", err)
	}
	if status := h.api("GET", "/api/v1/users/alice", nil, nil); status != 404 {
		t.Errorf("alice answered %d after a refused bind, want 404", status)
	}

	plain := newHarness(t, harnessOptions{})
	_, err = plain.cli("directory", "sync")
	if err == nil || !strings.Contains(err.Error(), "The directory is not configured") {
		t.Fatalf("no directory: %v", err)
	}
}
