package activities

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/integration"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// Subscriptions is the side of "send me an SMS when …" that touches
// Postgres: which subscriptions a page event matches, and the FYI each one
// gets.
type Subscriptions struct {
	Store  *store.Store
	Logger *slog.Logger
}

// FYIPlanInput names a page event.
type FYIPlanInput struct {
	PageID int64
	// Event is opened, acked or resolved.
	Event string
	// Brand names Klaxon in the texts.
	Brand string
}

// AnyFYIs reports whether a page event of this kind may have FYIs to
// send: whether any subscription could match it. A worker without
// subscriptions (nil) has none.
func (s *Subscriptions) AnyFYIs(ctx context.Context, event string) (bool, error) {
	if s == nil {
		return false, nil
	}
	return s.Store.AnySubscriptions(ctx, event)
}

// PlanFYIs returns the FYI messages a page event sends: one per matching
// subscription whose subscriber has a verified contact method of its
// medium. Each FYI's message id is derived from the subscription, page and
// event, and recorded once, so a retried plan or a replayed workflow sends
// nobody anything twice.
func (s *Subscriptions) PlanFYIs(ctx context.Context, in FYIPlanInput) ([]klaxon.Message, error) {
	pg, err := s.Store.GetPage(ctx, in.PageID)
	if err != nil {
		return nil, fmt.Errorf("plan fyis: %w", err)
	}
	service, err := s.Store.ServiceOfPage(ctx, pg.ID)
	if err != nil {
		return nil, fmt.Errorf("plan fyis: %w", err)
	}
	subs, err := s.Store.CandidateSubscriptions(ctx, in.Event, service, pg.Target)
	if err != nil {
		return nil, fmt.Errorf("plan fyis: %w", err)
	}
	ev := integration.PageEvent{Event: in.Event, Service: service, Target: pg.Target, Summary: pg.Summary, Details: pg.Details}
	var out []klaxon.Message
	for _, sub := range subs {
		w := integration.When{Service: sub.Service, Target: sub.Target, Event: sub.Event, Contains: sub.Contains}
		if !w.Matches(ev) {
			continue
		}
		to, err := s.contactFor(ctx, sub)
		if err != nil {
			return nil, fmt.Errorf("plan fyis: %w", err)
		}
		if to == "" {
			s.Logger.InfoContext(ctx, "fyi skipped: no verified contact of its medium",
				"subscription", sub.ID, "page", pg.ID, "medium", string(sub.Medium))
			continue
		}
		id := fmt.Sprintf("fyi-%d-%d-%s", sub.ID, pg.ID, in.Event)
		if _, err := s.Store.RecordSubscriptionNotice(ctx, sub.ID, pg.ID, in.Event, id); err != nil {
			return nil, fmt.Errorf("plan fyis: %w", err)
		}
		m := klaxon.Message{
			ID: id, Medium: sub.Medium, ToRef: to, Priority: klaxon.Normal,
			Purpose: "fyi", Ref: strconv.FormatInt(pg.ID, 10), ThreadKey: "page-" + strconv.FormatInt(pg.ID, 10),
		}
		m.Subject, m.Body = FYIText(in.Brand, sub.Medium, in.Event, pg)
		out = append(out, m)
	}
	return out, nil
}

// contactFor returns the reference of the subscriber's first verified
// contact of the subscription's medium (the delivery activity loads its
// address), or "" for none.
func (s *Subscriptions) contactFor(ctx context.Context, sub store.Subscription) (string, error) {
	cs, err := s.Store.Contacts(ctx, sub.UserID, true)
	if err != nil {
		return "", err
	}
	for _, c := range cs {
		if c.Type == sub.Medium {
			return "contact:" + strconv.FormatInt(c.ID, 10), nil
		}
	}
	return "", nil
}

// FYIText is an FYI's subject (email only) and body: what happened to
// which page, with its summary. It asks for nothing.
func FYIText(brand string, m klaxon.Medium, event string, pg paging.Page) (subject, body string) {
	if brand == "" {
		brand = "Klaxon"
	}
	what := map[string]string{
		integration.EventOpened:   "was opened",
		integration.EventAcked:    "was acknowledged",
		integration.EventResolved: "was resolved",
	}[event]
	by := ""
	switch event {
	case integration.EventAcked:
		by = pg.AckedBy
	case integration.EventResolved:
		by = pg.ResolvedBy
	}
	if by != "" {
		what += " by " + by
	}
	summary := strings.Join(strings.Fields(pg.Summary), " ")
	switch m {
	case klaxon.Voice:
		return "", fmt.Sprintf("This is %s, for your information. Page %d %s. %s. No action is needed. Goodbye.",
			brand, pg.ID, what, strings.TrimSuffix(summary, "."))
	case klaxon.Email:
		return fmt.Sprintf("[%s] FYI: page #%d %s", brand, pg.ID, what),
			fmt.Sprintf("Page #%d %s.\n\n%s\n\n%s\n\nYou asked to be told; no action is needed.\n", pg.ID, what, summary, pg.Details)
	default:
		body := fmt.Sprintf("FYI: page #%d %s: %s", pg.ID, what, summary)
		if r := []rune(body); len(r) > 300 {
			body = string(r[:299]) + "…"
		}
		return "", body
	}
}
