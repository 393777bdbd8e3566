package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/client"
	"github.com/klaxonhq/klaxon/store"
)

// The demo's people: phones the simulator plays, mailboxes the sink keeps.
var demoPeople = []struct {
	handle, name, timezone, phone, email string
}{
	{"alice", "Alice Example", "America/New_York", "+15555550123", "alice@example.com"},
	{"bob", "Bob Example", "Europe/Berlin", "+15555550124", "bob@example.com"},
}

// demoEscalateAfter is how long the demo's page waits before each next
// medium, so a newcomer sees the text, the call and the email within a
// minute.
const demoEscalateAfter = 20

// seedDemo fills a fresh `klaxon dev` with something to look at: two
// people with verified contact methods, a weekly rotation, an escalation
// policy, a monitored service, an SMS channel, and one page escalating on
// the rotation. It goes through the REST API, as an operator would; only
// the contact methods are marked verified directly (the demo phones'
// owners are not there to type the codes). Seeding twice changes nothing.
func seedDemo(ctx context.Context, st *store.Store, cl *client.Client, w io.Writer) error {
	for _, p := range demoPeople {
		if _, err := st.UserByHandle(ctx, p.handle); err == nil {
			fmt.Fprintf(w, "demo: already seeded (%s exists); nothing added\n", p.handle)
			return nil
		}
	}
	for _, p := range demoPeople {
		u, err := cl.CreateUser(ctx, api.UserRequest{Handle: p.handle, Name: p.name, Timezone: p.timezone})
		if err != nil {
			return fmt.Errorf("demo user %s: %w", p.handle, err)
		}
		for _, c := range []struct {
			medium klaxon.Medium
			addr   string
		}{{klaxon.SMS, p.phone}, {klaxon.Voice, p.phone}, {klaxon.Email, p.email}} {
			rec, err := st.AddContact(ctx, store.Contact{UserID: u.ID, Type: c.medium, Address: c.addr})
			if err != nil {
				return fmt.Errorf("demo contact of %s: %w", p.handle, err)
			}
			if err := st.MarkContactVerified(ctx, rec.ID); err != nil {
				return fmt.Errorf("demo contact of %s: %w", p.handle, err)
			}
		}
	}
	week := 1
	if _, err := cl.CreateRotation(ctx, api.CreateRotationRequest{Name: "ops", Timezone: "America/New_York", Members: []string{"alice", "bob"}, ShiftWeeks: &week}); err != nil {
		return fmt.Errorf("demo rotation: %w", err)
	}
	if _, err := cl.CreatePolicy(ctx, api.PolicyRequest{Name: "ops-escalation", Repeat: 1, Steps: []api.PolicyStep{
		{Targets: []string{"rotation:ops"}, DelaySeconds: 120},
		{Targets: []string{"user:bob"}, DelaySeconds: 120},
	}}); err != nil {
		return fmt.Errorf("demo policy: %w", err)
	}
	svc, err := cl.CreateService(ctx, api.ServiceRequest{Name: "api", Target: "policy:ops-escalation"})
	if err != nil {
		return fmt.Errorf("demo service: %w", err)
	}
	for _, n := range []string{"+15555550110", "+15555550111", "+15555550112"} {
		if _, err := cl.AddNumber(ctx, n); err != nil {
			return fmt.Errorf("demo pool number: %w", err)
		}
	}
	ch, err := cl.CreateChannel(ctx, api.CreateChannelRequest{Admins: []string{demoPeople[0].phone}})
	if err != nil {
		return fmt.Errorf("demo channel: %w", err)
	}
	after := demoEscalateAfter
	pg, err := cl.CreatePage(ctx, api.CreatePageRequest{Target: "rotation:ops", Summary: "demo: the database is down", EscalateAfterSeconds: &after})
	if err != nil {
		return fmt.Errorf("demo page: %w", err)
	}
	fmt.Fprintf(w, `
Demo seeded:
  people     alice (%s, alice@example.com), bob (%s, bob@example.com): verified
  rotation   ops: alice and bob, weekly (alice is on call)
  policy     ops-escalation: rotation:ops, then bob, twice
  service    api → policy:ops-escalation, key %s
  channel    %s, admin alice
  page       #%d "demo: the database is down" on rotation:ops: alice gets the text now, a call in %d s
             (answer it on the simulator's page and press 1), then an email; reply "1a" to her text to ack
`, demoPeople[0].phone, demoPeople[1].phone, svc.Key, ch.Phone, pg.ID, demoEscalateAfter)
	return nil
}

// waitReady waits until the gateway at base answers /healthz 200.
func waitReady(ctx context.Context, base string) error {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return errors.New("klaxon did not become ready")
		case <-time.After(100 * time.Millisecond):
		}
	}
}
