package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"go.temporal.io/api/serviceerror"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/integration"
	"github.com/klaxonhq/klaxon/pager"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// monitorBy is who monitors' acknowledgements and resolutions are by.
const monitorBy = "alertmanager"

// serviceRoutes adds the services API (behind the API token).
func (g *Gateway) serviceRoutes(r *mux.Router) {
	r.HandleFunc("/services", g.createService).Methods(http.MethodPost)
	r.HandleFunc("/services", g.listServices).Methods(http.MethodGet)
	r.HandleFunc("/services/{name}", g.getService).Methods(http.MethodGet)
	r.HandleFunc("/services/{name}", g.deleteService).Methods(http.MethodDelete)
	r.HandleFunc("/services/{name}/rotate-key", g.rotateServiceKey).Methods(http.MethodPost)
	r.HandleFunc("/users/{handle}/subscriptions", g.subscribe).Methods(http.MethodPost)
	r.HandleFunc("/users/{handle}/subscriptions", g.listSubscriptions).Methods(http.MethodGet)
	r.HandleFunc("/users/{handle}/subscriptions/{id}", g.unsubscribe).Methods(http.MethodDelete)
}

// integrationRoutes adds the monitors' routes. They carry no bearer token:
// the integration key in the path is the secret.
func (g *Gateway) integrationRoutes(r *mux.Router) {
	in := r.PathPrefix("/api/v1/integrations/{key}").Subrouter()
	in.HandleFunc("/alertmanager", g.alertmanager).Methods(http.MethodPost)
	in.HandleFunc("/events", g.integrationEvent).Methods(http.MethodPost)
}

func (g *Gateway) serviceView(s store.Service, key string) api.Service {
	v := api.Service{Name: s.Name, Target: s.Target, Key: key, CreatedAt: s.CreatedAt, KeyRotatedAt: s.KeyRotatedAt}
	if key != "" {
		base := g.Config.PublicURL + "/api/v1/integrations/" + key
		v.AlertmanagerURL, v.EventsURL = base+"/alertmanager", base+"/events"
	}
	return v
}

// createService is POST /api/v1/services: 201 with the key, shown once.
func (g *Gateway) createService(w http.ResponseWriter, r *http.Request) {
	var req api.ServiceRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	name := strings.TrimSpace(req.Name)
	if err := integration.ValidServiceName(name); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	t, err := g.pageTarget(r.Context(), req.Target)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	key, hash := integration.NewKey()
	s, err := g.Store.CreateService(r.Context(), name, t.String(), hash)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, g.serviceView(s, key))
}

// pageTarget parses a page target and checks that it exists (a service
// may point at someone who has no verified contact yet).
func (g *Gateway) pageTarget(ctx context.Context, raw string) (paging.Target, error) {
	if strings.TrimSpace(raw) == "" {
		return paging.Target{}, klaxon.Errorf(klaxon.EInvalid, `Field "target" is required: "user:HANDLE", "rotation:NAME" or "policy:NAME".`)
	}
	t, err := paging.ParseTarget(raw)
	if err != nil {
		return t, err
	}
	switch t.Kind {
	case paging.TargetUser:
		_, err = g.Store.UserByHandle(ctx, t.Name)
	case paging.TargetPolicy:
		_, err = g.Store.PolicyByName(ctx, t.Name)
	default:
		_, err = g.Store.Rotation(ctx, t.Name)
	}
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return t, klaxon.Errorf(klaxon.EUnprocessable, "There is no %s %q.", t.Kind, t.Name)
	}
	return t, err
}

func (g *Gateway) listServices(w http.ResponseWriter, r *http.Request) {
	ss, err := g.Store.Services(r.Context())
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	out := make([]api.Service, 0, len(ss))
	for _, s := range ss {
		out = append(out, g.serviceView(s, ""))
	}
	writeJSON(w, http.StatusOK, api.ServiceList{Services: out})
}

func (g *Gateway) getService(w http.ResponseWriter, r *http.Request) {
	s, err := g.serviceFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, g.serviceView(s, ""))
}

func (g *Gateway) deleteService(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	if err := g.Store.DeleteService(r.Context(), name); err != nil {
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			err = klaxon.Errorf(klaxon.ENotFound, "No service named %q.", truncate(name, 70))
		}
		writeError(w, r, g.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rotateServiceKey is POST /api/v1/services/{name}/rotate-key: a new key,
// shown once; the old one stops working at once.
func (g *Gateway) rotateServiceKey(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	key, hash := integration.NewKey()
	s, err := g.Store.RotateServiceKey(r.Context(), name, hash)
	if err != nil {
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			err = klaxon.Errorf(klaxon.ENotFound, "No service named %q.", truncate(name, 70))
		}
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, g.serviceView(s, key))
}

func (g *Gateway) serviceFromPath(r *http.Request) (store.Service, error) {
	name := mux.Vars(r)["name"]
	s, err := g.Store.ServiceByName(r.Context(), name)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return s, klaxon.Errorf(klaxon.ENotFound, "No service named %q.", truncate(name, 70))
	}
	return s, err
}

// keyedService is the service whose integration key the path carries. An
// unknown, malformed or rotated key is a 404 that says nothing more.
func (g *Gateway) keyedService(r *http.Request) (store.Service, error) {
	key := mux.Vars(r)["key"]
	unknown := klaxon.Errorf(klaxon.ENotFound, "Unknown integration key.")
	if !integration.WellFormedKey(key) {
		return store.Service{}, unknown
	}
	s, err := g.Store.ServiceByKeyHash(r.Context(), integration.HashKey(key))
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound || (err == nil && !integration.KeyMatches(key, s.KeyHash)) {
		return store.Service{}, unknown
	}
	return s, err
}

// alertmanager is POST /api/v1/integrations/{key}/alertmanager: a firing
// group opens a page on the service's target or joins its open page; a
// resolved group resolves it once it has stayed resolved for alertQuiet.
func (g *Gateway) alertmanager(w http.ResponseWriter, r *http.Request) {
	s, err := g.keyedService(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnsupported, "Content-Type must be application/json."))
		return
	}
	body := http.MaxBytesReader(w, r.Body, integration.MaxAlertmanagerBody)
	n, err := integration.ParseAlertmanager(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) || strings.Contains(err.Error(), "request body too large") {
			err = klaxon.Errorf(klaxon.ETooLarge, "The notification is larger than %d bytes.", integration.MaxAlertmanagerBody)
		}
		writeError(w, r, g.Logger, err)
		return
	}
	key := n.DedupKey(s.Name)
	if n.Status == integration.Resolved {
		g.monitorResolve(w, r, key, true)
		return
	}
	g.monitorTrigger(w, r, s, key, n.Summary(), n.Details())
}

// integrationEvent is POST /api/v1/integrations/{key}/events.
func (g *Gateway) integrationEvent(w http.ResponseWriter, r *http.Request) {
	s, err := g.keyedService(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	var ev integration.Event
	if err := decodeJSON(w, r, &ev); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if err := ev.Check(); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	key := integration.PageKey(s.Name, ev.DedupKey)
	switch ev.Action {
	case integration.Trigger:
		g.monitorTrigger(w, r, s, key, ev.Summary, ev.Details)
	case integration.Resolve:
		g.monitorResolve(w, r, key, false)
	default:
		g.monitorAck(w, r, key)
	}
}

// monitorTrigger opens a page for a monitor, or joins the live page with
// the same key: its text follows the alerts, and a pending resolution of
// it is called off.
func (g *Gateway) monitorTrigger(w http.ResponseWriter, r *http.Request, s store.Service, key, summary, details string) {
	ctx := r.Context()
	if key != "" {
		live, err := g.Store.LatestPageByDedupKey(ctx, key)
		switch {
		case err == nil && live.Status != paging.StatusResolved:
			g.callOffResolve(ctx, live.ID)
			if _, err := g.Store.UpdatePageText(ctx, live.ID, summary, details, "alerts:"+digest(summary+"\x00"+details)); err != nil {
				writeError(w, r, g.Logger, err)
				return
			}
			writeJSON(w, http.StatusOK, api.IntegrationResult{PageID: live.ID, Status: live.Status, Action: "joined",
				Message: "The alert joined its open page; nobody was paged again."})
			return
		case err != nil && klaxon.ErrorCodeOf(err) != klaxon.ENotFound:
			writeError(w, r, g.Logger, err)
			return
		}
	}
	pg, created, err := g.openPage(ctx, api.CreatePageRequest{Target: s.Target, Summary: summary, Details: details, DedupKey: key})
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if err := g.Store.LinkServicePage(ctx, s.ID, pg.ID); err != nil {
		g.Logger.WarnContext(ctx, "link page to service", "page", pg.ID, "service", s.Name, "error", err)
	}
	if !created {
		writeJSON(w, http.StatusOK, api.IntegrationResult{PageID: pg.ID, Status: pg.Status, Action: "joined",
			Message: "The alert joined its open page; nobody was paged again."})
		return
	}
	writeJSON(w, http.StatusAccepted, api.IntegrationResult{PageID: pg.ID, Status: pg.Status, Action: "opened",
		Message: "Page opened on " + s.Target + "."})
}

// monitorResolve resolves the live page with the key: at once for the
// event API, after the quiet window for Alertmanager.
func (g *Gateway) monitorResolve(w http.ResponseWriter, r *http.Request, key string, debounce bool) {
	ctx := r.Context()
	pg, ok := g.livePage(w, r, key)
	if !ok {
		return
	}
	if !debounce {
		g.monitorSettle(w, r, pg, workflows.UpdateResolve, paging.StatusResolved, "event")
		return
	}
	in := workflows.AlertResolveInput{PageID: pg.ID, Quiet: g.Config.AlertQuiet, By: monitorBy}
	err := g.start.AlertResolve(ctx, in)
	if err != nil {
		g.Logger.ErrorContext(ctx, "start alert resolve", "page", pg.ID, "error", err)
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable, "The resolution could not be scheduled: the workflow engine is unavailable. Try again."))
		return
	}
	writeJSON(w, http.StatusAccepted, api.IntegrationResult{PageID: pg.ID, Status: pg.Status, Action: "resolving",
		Message: "The page will be resolved once its alerts have stayed resolved for " + g.Config.AlertQuiet.String() + "."})
}

// monitorAck acknowledges the live page with the key.
func (g *Gateway) monitorAck(w http.ResponseWriter, r *http.Request, key string) {
	pg, ok := g.livePage(w, r, key)
	if !ok {
		return
	}
	g.monitorSettle(w, r, pg, workflows.UpdateAck, paging.StatusAcked, "event")
}

// livePage finds the open or acknowledged page with key; it answers 200
// "nothing" itself when there is none.
func (g *Gateway) livePage(w http.ResponseWriter, r *http.Request, key string) (paging.Page, bool) {
	pg, err := g.Store.LatestPageByDedupKey(r.Context(), key)
	switch {
	case klaxon.ErrorCodeOf(err) == klaxon.ENotFound || (err == nil && pg.Status == paging.StatusResolved):
		writeJSON(w, http.StatusOK, api.IntegrationResult{Status: "none", Action: "nothing", Message: "No open page has this key; nothing changed."})
		return pg, false
	case err != nil:
		writeError(w, r, g.Logger, err)
		return pg, false
	}
	return pg, true
}

// monitorSettle acknowledges or resolves a page through its workflow.
func (g *Gateway) monitorSettle(w http.ResponseWriter, r *http.Request, pg paging.Page, update, status, via string) {
	ctx, cancel := context.WithTimeout(r.Context(), pageActionTimeout)
	defer cancel()
	res, err := pager.Apply(ctx, g.Temporal, g.Store, pager.Update{
		PageID: pg.ID, WorkflowID: workflows.PageWorkflowID(g.Config.TaskQueue, pg.ID), Name: update, Status: status,
		Action: paging.Action{By: monitorBy, Via: via},
	})
	if err != nil {
		g.Logger.ErrorContext(r.Context(), "monitor page action", "page", pg.ID, "update", update, "error", err)
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable, "Page %d could not be updated: the workflow engine did not answer. Try again.", pg.ID))
		return
	}
	action := status
	if !res.Changed {
		action = "nothing"
	}
	writeJSON(w, http.StatusOK, api.IntegrationResult{PageID: pg.ID, Status: res.Status, Action: action, Message: "Page " + res.Status + "."})
}

// callOffResolve tells a pending resolution of the page that its alerts
// fired again. No pending resolution is the usual case.
func (g *Gateway) callOffResolve(ctx context.Context, pageID int64) {
	err := g.Temporal.SignalWorkflow(ctx, workflows.AlertResolveWorkflowID(g.Config.TaskQueue, pageID), "", workflows.SignalAlertFired, nil)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		g.Logger.WarnContext(ctx, "call off alert resolve", "page", pageID, "error", err)
	}
}

// digest is a short stable fingerprint of s, for timeline keys.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// subscribe is POST /api/v1/users/{handle}/subscriptions: 201 with its id.
func (g *Gateway) subscribe(w http.ResponseWriter, r *http.Request) {
	u, err := g.userFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	var req api.SubscriptionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	sub := integration.Subscription{When: integration.When(req.When), Then: req.Then}
	if err := sub.Check(); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	ctx := r.Context()
	if sub.When.Service != "" {
		if _, err := g.Store.ServiceByName(ctx, sub.When.Service); klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnprocessable, "There is no service %q.", sub.When.Service))
			return
		} else if err != nil {
			writeError(w, r, g.Logger, err)
			return
		}
	}
	if sub.When.Target != "" {
		t, err := g.pageTarget(ctx, sub.When.Target)
		if err != nil {
			writeError(w, r, g.Logger, err)
			return
		}
		sub.When.Target = t.String()
	}
	rec, err := g.Store.CreateSubscription(ctx, store.Subscription{
		UserID: u.ID, Service: sub.When.Service, Target: sub.When.Target, Event: sub.When.Event,
		Contains: sub.When.Contains, Medium: sub.Medium(),
	})
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, subscriptionView(u.Handle, rec))
}

func (g *Gateway) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	u, err := g.userFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	subs, err := g.Store.Subscriptions(r.Context(), u.ID)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	out := api.SubscriptionList{Subscriptions: make([]api.Subscription, 0, len(subs))}
	for _, s := range subs {
		out.Subscriptions = append(out.Subscriptions, subscriptionView(u.Handle, s))
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *Gateway) unsubscribe(w http.ResponseWriter, r *http.Request) {
	u, err := g.userFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err == nil {
		err = g.Store.DeleteSubscription(r.Context(), u.ID, id)
	}
	if err != nil {
		if _, perr := strconv.ParseInt(raw, 10, 64); perr != nil || klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			err = klaxon.Errorf(klaxon.ENotFound, "%s has no subscription %q.", u.Handle, truncate(raw, 20))
		}
		writeError(w, r, g.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// subscriptionView shows a subscription; "then" says "call" for voice.
func subscriptionView(handle string, s store.Subscription) api.Subscription {
	then := string(s.Medium)
	if s.Medium == klaxon.Voice {
		then = "call"
	}
	return api.Subscription{
		ID: s.ID, User: handle, Then: then, CreatedAt: s.Created,
		When: api.SubscriptionWhen{Service: s.Service, Target: s.Target, Event: s.Event, Contains: s.Contains},
	}
}
