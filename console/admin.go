package console

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

type adminData struct {
	Users    []store.User
	Policies []paging.Policy
	Services []store.Service
	Channels []store.Channel
	Numbers  []store.Number
	// NewKey is a service's integration key, shown once after a rotation.
	NewKey    string
	NewKeyFor string
	PublicURL string
}

// admin shows maintainers the users, policies, services, channels (as
// counts: never an admin's or a subscriber's number) and the number pool.
// A person's session asks for the API token first.
func (c *Console) admin(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if !s.Admin {
		c.render(w, r, http.StatusOK, "elevate", view{Title: "Admin", Nav: "admin", Session: s})
		return
	}
	c.renderAdmin(w, r, adminData{})
}

func (c *Console) renderAdmin(w http.ResponseWriter, r *http.Request, d adminData) {
	ctx := r.Context()
	var err error
	if d.Users, err = c.Store.ListUsers(ctx); err == nil {
		if d.Policies, err = c.Store.ListPolicies(ctx); err == nil {
			if d.Services, err = c.Store.Services(ctx); err == nil {
				if d.Channels, err = c.Store.ListChannels(ctx); err == nil {
					d.Numbers, err = c.Store.ListNumbers(ctx)
				}
			}
		}
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.PublicURL = c.PublicURL
	c.render(w, r, http.StatusOK, "admin", view{Title: "Admin", Nav: "admin", Session: sessionOf(r), Data: d})
}

// rotateKey gives a service a new integration key and shows it, once.
func (c *Console) rotateKey(w http.ResponseWriter, r *http.Request) {
	if !sessionOf(r).Admin {
		c.refuse(w, r, http.StatusForbidden, "Only maintainers can rotate integration keys.")
		return
	}
	name := mux.Vars(r)["name"]
	key, err := c.Backend.RotateServiceKey(r.Context(), name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderAdmin(w, r, adminData{NewKey: key, NewKeyFor: name})
}
