package gateway

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// createPolicy is POST /api/v1/policies: {"name", "repeat", "steps":
// [{"targets": ["user:alice", "rotation:ops"], "delay_seconds": 300}]} →
// 201 with the policy. Every user and rotation it names must exist.
func (g *Gateway) createPolicy(w http.ResponseWriter, r *http.Request) {
	var req api.PolicyRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	p := policyFrom(req)
	if err := p.Validate(); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if err := g.policyTargetsExist(r.Context(), p); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	created, err := g.Store.CreatePolicy(r.Context(), p)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, policyOf(created))
}

// policyTargetsExist checks that every user and rotation a policy names
// exists (whether anyone is reachable is decided when a step fires).
func (g *Gateway) policyTargetsExist(ctx context.Context, p paging.Policy) error {
	for i, s := range p.Steps {
		for _, raw := range s.Targets {
			t, err := paging.ParseTarget(raw)
			if err != nil {
				return err
			}
			var lookErr error
			switch t.Kind {
			case paging.TargetUser:
				_, lookErr = g.Store.UserByHandle(ctx, t.Name)
			case paging.TargetRotation:
				_, lookErr = g.Store.Rotation(ctx, t.Name)
			}
			if klaxon.ErrorCodeOf(lookErr) == klaxon.ENotFound {
				return klaxon.Errorf(klaxon.EUnprocessable, "Step %d: there is no %s %q.", i+1, t.Kind, t.Name)
			}
			if lookErr != nil {
				return fmt.Errorf("check policy targets: %w", lookErr)
			}
		}
	}
	return nil
}

func (g *Gateway) listPolicies(w http.ResponseWriter, r *http.Request) {
	ps, err := g.Store.ListPolicies(r.Context())
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	out := api.PolicyList{Policies: make([]api.Policy, 0, len(ps))}
	for _, p := range ps {
		out.Policies = append(out.Policies, policyOf(p))
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *Gateway) getPolicy(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	p, err := g.Store.PolicyByName(r.Context(), name)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		err = klaxon.Errorf(klaxon.ENotFound, "There is no policy %q.", truncate(name, 64))
	}
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, policyOf(p))
}

func (g *Gateway) setNotificationRules(w http.ResponseWriter, r *http.Request) {
	var req api.NotificationRules
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if len(req.Rules) > 20 {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, "A person has at most 20 notification rules."))
		return
	}
	u, err := g.userFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if err := g.Store.SetNotificationRules(r.Context(), u.ID, rulesFrom(req)); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	g.getNotificationRules(w, r)
}

func (g *Gateway) getNotificationRules(w http.ResponseWriter, r *http.Request) {
	u, err := g.userFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	rules, err := g.Store.NotificationRules(r.Context(), u.ID)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, rulesOf(rules))
}

// userFromPath loads the user named by {handle}.
func (g *Gateway) userFromPath(r *http.Request) (store.User, error) {
	handle := mux.Vars(r)["handle"]
	u, err := g.Store.UserByHandle(r.Context(), handle)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return u, klaxon.Errorf(klaxon.ENotFound, "There is no user %q.", truncate(handle, 32))
	}
	return u, err
}
