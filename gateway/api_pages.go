package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/pager"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/workflows"
)

// pageRoutes adds the paging API: pages, escalation policies and
// notification rules.
func (g *Gateway) pageRoutes(api *mux.Router) {
	api.HandleFunc("/pages", g.createPage).Methods(http.MethodPost)
	api.HandleFunc("/pages", g.listPages).Methods(http.MethodGet)
	api.HandleFunc("/pages/{id}", g.getPage).Methods(http.MethodGet)
	api.HandleFunc("/pages/{id}/ack", g.ackPage).Methods(http.MethodPost)
	api.HandleFunc("/pages/{id}/resolve", g.resolvePage).Methods(http.MethodPost)
	api.HandleFunc("/pages/{id}/escalate", g.escalatePage).Methods(http.MethodPost)
	api.HandleFunc("/policies", g.createPolicy).Methods(http.MethodPost)
	api.HandleFunc("/policies", g.listPolicies).Methods(http.MethodGet)
	api.HandleFunc("/policies/{name}", g.getPolicy).Methods(http.MethodGet)
	api.HandleFunc("/users/{handle}/notification-rules", g.setNotificationRules).Methods(http.MethodPut)
	api.HandleFunc("/users/{handle}/notification-rules", g.getNotificationRules).Methods(http.MethodGet)
}

// maxByLen limits who an acknowledgement says it is by.
const maxByLen = 64

// createPage creates a page and starts its workflow: 202 with its id as
// soon as the record exists and the workflow has started (eagerly, so the
// first text leaves within milliseconds). The same dedup key while a page
// with it is open or acknowledged returns that page with 200.
func (g *Gateway) createPage(w http.ResponseWriter, r *http.Request) {
	var req api.CreatePageRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	pg, created, err := g.openPage(r.Context(), req)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	out := api.PageCreated{ID: pg.ID, WorkflowID: workflows.PageWorkflowID(g.Config.TaskQueue, pg.ID), Status: pg.Status, Deduplicated: !created}
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, out)
}

// openPage validates a page request, records the page (or finds the live
// one with its dedup key) and starts its workflow: the API's and the
// monitors' one way to page, which the chat bridge shares (pager.Open).
func (g *Gateway) openPage(ctx context.Context, req api.CreatePageRequest) (paging.Page, bool, error) {
	return pager.Open(ctx, g.Store, g.start, g.Logger, pager.Request{
		Target: req.Target, Summary: req.Summary, Details: req.Details, DedupKey: req.DedupKey,
		Mode: req.Mode, Urgency: req.Urgency, EscalateAfterSeconds: req.EscalateAfterSeconds,
	})
}

func (g *Gateway) getPage(w http.ResponseWriter, r *http.Request) {
	pg, err := g.pageFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	evs, err := g.Store.PageEvents(r.Context(), pg.ID)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, api.PageDetail{Page: pageOf(pg), WorkflowID: workflows.PageWorkflowID(g.Config.TaskQueue, pg.ID), Events: pageEventsOf(evs)})
}

// pageFromPath loads the page named by the {id} in the path.
func (g *Gateway) pageFromPath(r *http.Request) (paging.Page, error) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return paging.Page{}, klaxon.Errorf(klaxon.ENotFound, "No page with id %q: page ids are positive numbers.", truncate(raw, 20))
	}
	pg, err := g.Store.GetPage(r.Context(), id)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return pg, klaxon.Errorf(klaxon.ENotFound, "No page with id %d.", id)
	}
	return pg, err
}

// listPages is GET /api/v1/pages[?status=open|acked|resolved][&limit=N].
func (g *Gateway) listPages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := strings.ToLower(strings.TrimSpace(q.Get("status")))
	switch status {
	case "", paging.StatusOpen, paging.StatusAcked, paging.StatusResolved:
	default:
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, `Unknown status %q: use "open", "acked" or "resolved".`, truncate(status, 20)))
		return
	}
	limit := 100
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, "limit must be a number from 1 to 1000."))
			return
		}
		limit = n
	}
	pages, err := g.Store.ListPages(r.Context(), status, limit)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	out := api.PageList{Pages: make([]api.Page, 0, len(pages))}
	for _, p := range pages {
		out.Pages = append(out.Pages, pageOf(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *Gateway) ackPage(w http.ResponseWriter, r *http.Request) {
	g.pageAction(w, r, workflows.UpdateAck, paging.StatusAcked)
}

func (g *Gateway) resolvePage(w http.ResponseWriter, r *http.Request) {
	g.pageAction(w, r, workflows.UpdateResolve, paging.StatusResolved)
}

// pageActionTimeout bounds how long the API waits for a page workflow to
// take an acknowledgement.
const pageActionTimeout = 10 * time.Second

// pageAction acknowledges or resolves a page through its workflow, which
// stops every pending notification before it answers. An acknowledgement
// after the page was resolved is a 409 that says so, and changes nothing.
func (g *Gateway) pageAction(w http.ResponseWriter, r *http.Request, update, status string) {
	by, pg, err := g.pageActionRequest(w, r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	v, err := g.applyPageAction(r.Context(), pg, update, status, paging.Action{By: by, Via: "api"})
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// pageActionRequest reads what every page action's request carries: who
// acts ("api" when the body names no one), and the page the path names.
func (g *Gateway) pageActionRequest(w http.ResponseWriter, r *http.Request) (string, paging.Page, error) {
	var req api.PageActionRequest
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &req); err != nil {
			return "", paging.Page{}, err
		}
	}
	by := strings.TrimSpace(req.By)
	if by == "" {
		by = "api"
	}
	if utf8.RuneCountInString(by) > maxByLen || !utf8.ValidString(by) {
		return "", paging.Page{}, klaxon.Errorf(klaxon.EInvalid, `Field "by" must be at most %d characters.`, maxByLen)
	}
	pg, err := g.pageFromPath(r)
	return by, pg, err
}

func lateAck(id int64, by string) error {
	return klaxon.Errorf(klaxon.EConflict, "Page #%d is already resolved%s; there is nothing left to acknowledge.", id, byClause(by))
}

func byClause(by string) string {
	if by == "" {
		return ""
	}
	return " by " + by
}

// applyPageAction acknowledges or resolves a page through pager.Apply, the
// one way every caller (the API, the console, an ack link) changes a page,
// and says what happened. An acknowledgement of a resolved page is
// EConflict and changes nothing.
func (g *Gateway) applyPageAction(ctx context.Context, pg paging.Page, update, status string, action paging.Action) (api.PageAction, error) {
	if pg.Status == paging.StatusResolved && status == paging.StatusAcked {
		return api.PageAction{}, lateAck(pg.ID, pg.ResolvedBy)
	}
	actx, cancel := context.WithTimeout(ctx, pageActionTimeout)
	defer cancel()
	res, err := pager.Apply(actx, g.Temporal, g.Store, pager.Update{
		PageID: pg.ID, WorkflowID: workflows.PageWorkflowID(g.Config.TaskQueue, pg.ID), Name: update, Status: status,
		Action: action,
	})
	if err != nil {
		g.Logger.ErrorContext(ctx, "page action", "page", pg.ID, "update", update, "error", err)
		return api.PageAction{}, klaxon.Errorf(klaxon.EUnavailable, "Page %d could not be updated: its record could not be written or the workflow engine did not answer. Nothing changed; try again.", pg.ID)
	}
	if res.Status == paging.StatusResolved && status == paging.StatusAcked {
		return api.PageAction{}, lateAck(pg.ID, res.By)
	}
	// The record, as the workflow left it.
	if cur, err := g.Store.GetPage(ctx, pg.ID); err == nil {
		pg = cur
	}
	v := api.PageAction{ID: pg.ID, Status: res.Status, AckedBy: pg.AckedBy, ResolvedBy: pg.ResolvedBy, Changed: res.Changed}
	switch {
	case res.Changed && status == paging.StatusAcked:
		v.Message = fmt.Sprintf("Acknowledged page #%d: every pending notification is canceled.", pg.ID)
	case res.Changed:
		v.Message = fmt.Sprintf("Resolved page #%d.", pg.ID)
	case res.Status == paging.StatusResolved:
		v.Message = fmt.Sprintf("Page #%d was already resolved%s.", pg.ID, byClause(res.By))
	default:
		v.Message = fmt.Sprintf("Page #%d was already acknowledged%s.", pg.ID, byClause(res.By))
	}
	return v, nil
}

// escalatePage is POST /api/v1/pages/{id}/escalate {"by"?}: the open page's
// next step pages its people now instead of at the end of the wait. An
// acknowledged or resolved page is a 409, and nothing changes.
func (g *Gateway) escalatePage(w http.ResponseWriter, r *http.Request) {
	by, pg, err := g.pageActionRequest(w, r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	v, err := g.escalate(r.Context(), pg, paging.Action{By: by, Via: "api"})
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// escalate asks an open page's workflow to run its next step now.
func (g *Gateway) escalate(ctx context.Context, pg paging.Page, action paging.Action) (api.PageAction, error) {
	if pg.Status != paging.StatusOpen {
		return api.PageAction{}, klaxon.Errorf(klaxon.EConflict, "Page %d is %s%s; there is nobody left to escalate to.", pg.ID, pg.Status, byClause(pg.SettledBy()))
	}
	var res paging.ActionResult
	err := g.update(ctx, workflows.PageWorkflowID(g.Config.TaskQueue, pg.ID), workflows.UpdateEscalate, &res, action)
	var ae *temporal.ApplicationError
	switch {
	case errors.As(err, &ae):
		return api.PageAction{}, klaxon.Errorf(klaxon.EConflict, "Page %d cannot be escalated now: %s.", pg.ID, ae.Message())
	case err != nil:
		g.Logger.ErrorContext(ctx, "escalate page", "page", pg.ID, "error", err)
		return api.PageAction{}, klaxon.Errorf(klaxon.EUnavailable, "Page %d could not be escalated: the workflow engine did not answer. Try again.", pg.ID)
	}
	return api.PageAction{ID: pg.ID, Status: pg.Status, Changed: true, Message: "Escalated: the next step is paging now."}, nil
}
