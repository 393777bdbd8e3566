package pager

import (
	"context"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// Request is a page asked for (POST /api/v1/pages, a monitor, chat).
type Request struct {
	Target, Summary, Details, DedupKey, Mode, Urgency string
	EscalateAfterSeconds                              *int
	// RequestedBy is who asked: "" for the API, a handle from chat.
	RequestedBy string
}

// PageStarter starts a recorded page's workflow (workflows.Starter).
type PageStarter interface {
	Page(ctx context.Context, pg paging.Page) error
}

// Limits of a page request, which the schema also enforces.
const (
	maxSummaryLen  = 1000
	maxDetailsLen  = 10000
	maxDedupKeyLen = 255
)

// Open validates a page request, records the page (or finds the live
// one with its dedup key) and starts its workflow: the one way to page of the API,
// the monitors and the chat bridge. A page whose workflow cannot be started is
// deleted again, and the error says nobody was paged.
func Open(ctx context.Context, st *store.Store, start PageStarter, logger *slog.Logger, req Request) (paging.Page, bool, error) {
	p, err := Validate(ctx, st, req)
	if err != nil {
		return p, false, err
	}
	pg, created, err := st.CreatePage(ctx, p)
	if err != nil {
		return pg, false, err
	}
	if err := start.Page(ctx, pg); err != nil {
		if !created {
			// The page exists and its workflow most likely too (the first
			// request started it); say what we have.
			logger.WarnContext(ctx, "page workflow not confirmed for a deduplicated page", "page", pg.ID, "error", err)
			return pg, false, nil
		}
		if derr := st.DeletePage(context.WithoutCancel(ctx), pg.ID); derr != nil {
			logger.ErrorContext(ctx, "delete unstarted page", "page", pg.ID, "error", derr)
		}
		logger.ErrorContext(ctx, "start page workflow", "page", pg.ID, "error", err)
		return pg, false, klaxon.Errorf(klaxon.EUnavailable, "The page could not be started: the workflow engine is unavailable. Nobody was paged; try again.")
	}
	return pg, created, nil
}

// Validate checks a page request and that its target can be reached:
// a user must exist and have a verified contact method, a rotation must
// have someone on call who has one, a policy must exist.
func Validate(ctx context.Context, st *store.Store, req Request) (paging.Page, error) {
	var p paging.Page
	if strings.TrimSpace(req.Target) == "" {
		return p, klaxon.Errorf(klaxon.EInvalid, `Field "target" is required: "user:HANDLE", "rotation:NAME" or "policy:NAME".`)
	}
	t, err := paging.ParseTarget(req.Target)
	if err != nil {
		return p, err
	}
	p.Target = t.String()
	p.Summary = strings.TrimSpace(req.Summary)
	switch {
	case p.Summary == "":
		return p, klaxon.Errorf(klaxon.EInvalid, `Field "summary" is required and must not be blank.`)
	case !utf8.ValidString(p.Summary) || !utf8.ValidString(req.Details):
		return p, klaxon.Errorf(klaxon.EInvalid, "The summary and details must be valid UTF-8 text.")
	case utf8.RuneCountInString(p.Summary) > maxSummaryLen:
		return p, klaxon.Errorf(klaxon.EInvalid, "The summary is %d characters long; the limit is %d (put the rest in \"details\").", utf8.RuneCountInString(p.Summary), maxSummaryLen)
	}
	p.Details = strings.TrimSpace(req.Details)
	if n := utf8.RuneCountInString(p.Details); n > maxDetailsLen {
		return p, klaxon.Errorf(klaxon.EInvalid, "The details are %d characters long; the limit is %d.", n, maxDetailsLen)
	}
	p.DedupKey = strings.TrimSpace(req.DedupKey)
	if utf8.RuneCountInString(p.DedupKey) > maxDedupKeyLen || !utf8.ValidString(p.DedupKey) {
		return p, klaxon.Errorf(klaxon.EInvalid, "The dedup_key must be valid text of at most %d characters.", maxDedupKeyLen)
	}
	switch p.Mode = strings.ToLower(strings.TrimSpace(req.Mode)); p.Mode {
	case "":
		p.Mode = paging.ModeEscalate
	case paging.ModeEscalate, paging.ModeBlast:
	default:
		return p, klaxon.Errorf(klaxon.EInvalid, `Unknown mode %q: use "escalate" or "blast".`, truncate(req.Mode, 20))
	}
	switch p.Urgency = strings.ToLower(strings.TrimSpace(req.Urgency)); p.Urgency {
	case "":
		p.Urgency = paging.UrgencyHigh
	case paging.UrgencyHigh, paging.UrgencyLow:
	default:
		return p, klaxon.Errorf(klaxon.EInvalid, `Unknown urgency %q: use "high" or "low".`, truncate(req.Urgency, 20))
	}
	if req.EscalateAfterSeconds != nil {
		if s := *req.EscalateAfterSeconds; s < 1 || s > paging.MaxDelaySeconds {
			return p, klaxon.Errorf(klaxon.EInvalid, "escalate_after_seconds must be between 1 and %d.", paging.MaxDelaySeconds)
		}
		p.EscalateAfterSeconds = *req.EscalateAfterSeconds
	}
	p.RequestedBy = req.RequestedBy
	return p, reachable(ctx, st, t)
}

// reachable checks that a page's target exists and can be reached now.
func reachable(ctx context.Context, st *store.Store, t paging.Target) error {
	if t.Kind == paging.TargetPolicy {
		if _, err := st.PolicyByName(ctx, t.Name); klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			return klaxon.Errorf(klaxon.EUnprocessable, "There is no policy %q.", t.Name)
		} else if err != nil {
			return err
		}
		return nil
	}
	if t.Kind == paging.TargetUser {
		u, n, err := st.UserReachability(ctx, t.Name)
		switch {
		case klaxon.ErrorCodeOf(err) == klaxon.ENotFound:
			return klaxon.Errorf(klaxon.EUnprocessable, "There is no user %q.", t.Name)
		case err != nil:
			return err
		case !u.Active:
			return klaxon.Errorf(klaxon.EUnprocessable, "%s is deactivated (no longer in the directory), so nobody would be paged.", u.Handle)
		case !paging.CanPage(u.Active, n):
			return klaxon.Errorf(klaxon.EUnprocessable, "%s has no verified contact method, so nobody would be paged. Add one and verify it first.", u.Handle)
		}
		return nil
	}
	users, err := st.ResolveTarget(ctx, t)
	if err != nil {
		if code := klaxon.ErrorCodeOf(err); code == klaxon.ENotFound || code == klaxon.EUnprocessable {
			return klaxon.Errorf(klaxon.EUnprocessable, "%s", klaxon.ErrorMessageOf(err))
		}
		return err
	}
	for _, u := range users {
		cs, err := st.Contacts(ctx, u.ID, true)
		if err != nil {
			return err
		}
		if paging.CanPage(u.Active, len(cs)) {
			return nil
		}
	}
	if len(users) == 1 && !users[0].Active {
		return klaxon.Errorf(klaxon.EUnprocessable, "%s is deactivated (no longer in the directory), so nobody would be paged.", users[0].Handle)
	}
	if len(users) == 1 {
		return klaxon.Errorf(klaxon.EUnprocessable, "%s has no verified contact method, so nobody would be paged. Add one and verify it first.", users[0].Handle)
	}
	return klaxon.Errorf(klaxon.EUnprocessable, "Nobody %s names has a verified contact method, so nobody would be paged.", t)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
