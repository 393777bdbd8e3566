package console

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

type contactView struct {
	store.Contact
	// OptedOut is the STOP state of a number on the paging number.
	OptedOut bool
	Phone    bool
}

type meData struct {
	User     store.User
	Contacts []contactView
	Rules    []paging.NotificationRule
	Default  bool
	Paging   string
}

// me shows the signed-in person their contact methods (in full: they are
// theirs), their notification rules and each number's STOP state.
func (c *Console) me(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if s.UserID == 0 {
		c.back(w, r, "/admin", "This is a maintainer session: it has no contact methods of its own.")
		return
	}
	ctx := r.Context()
	u, err := c.Store.UserByID(ctx, s.UserID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cs, err := c.Store.Contacts(ctx, u.ID, false)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := meData{User: u, Paging: c.PagingNumber}
	for _, ct := range cs {
		v := contactView{Contact: ct, Phone: ct.Type != klaxon.Email}
		if v.Phone && c.PagingNumber != "" {
			if v.OptedOut, err = c.Store.IsOptedOut(ctx, ct.Address, c.PagingNumber); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		d.Contacts = append(d.Contacts, v)
	}
	if d.Rules, err = c.Store.NotificationRules(ctx, u.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	if len(d.Rules) == 0 {
		d.Rules, d.Default = paging.DefaultNotificationRules(), true
	}
	c.render(w, r, http.StatusOK, "me", view{Title: "Me", Nav: "me", Session: s, Data: d})
}

// addContact adds a contact method and sends its code.
func (c *Console) addContact(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	if s.UserID == 0 {
		c.refuse(w, r, http.StatusBadRequest, "A maintainer session has no contact methods; sign in as a person.")
		return
	}
	medium := strings.TrimSpace(r.PostFormValue("type"))
	address := strings.TrimSpace(r.PostFormValue("address"))
	ct, err := c.Backend.AddContact(r.Context(), s.UserID, medium, address)
	if err != nil {
		if klaxon.ErrorCodeOf(err) == klaxon.EInternal {
			c.fail(w, r, err)
			return
		}
		c.refuse(w, r, statusOf(klaxon.ErrorCodeOf(err)), klaxon.ErrorMessageOf(err))
		return
	}
	msg := "A code is on its way to " + ct.Address + ": enter it below."
	if ct.Status == store.ContactVerified {
		msg = ct.Address + " is already verified."
	}
	c.back(w, r, "/me#contact-"+strconv.FormatInt(ct.ID, 10), msg)
}

// contactOp verifies, removes or test-sends one of the person's contact
// methods.
func (c *Console) contactOp(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	ctx := r.Context()
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	ct, err := c.Store.ContactByID(ctx, id)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound || err == nil && ct.UserID != s.UserID {
		c.refuse(w, r, http.StatusNotFound, "You have no such contact method.")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var msg string
	switch mux.Vars(r)["op"] {
	case "verify":
		code := strings.TrimSpace(r.PostFormValue("code"))
		if code == "" {
			c.refuse(w, r, http.StatusBadRequest, "Enter the code you were sent.")
			return
		}
		if err = c.Backend.VerifyContact(ctx, ct.ID, code); err == nil {
			msg = ct.Address + " is verified."
		}
	case "remove":
		if err = c.Store.DeleteContact(ctx, s.UserID, ct.ID); err == nil {
			msg = ct.Address + " is removed."
		}
	case "test":
		if ct.Status != store.ContactVerified {
			c.refuse(w, r, http.StatusUnprocessableEntity, "Verify this contact method before sending it a test.")
			return
		}
		if err = c.Backend.TestSend(ctx, ct); err == nil {
			msg = "A test is on its way to " + ct.Address + "."
		}
	}
	if err != nil {
		if klaxon.ErrorCodeOf(err) == klaxon.EInternal {
			c.fail(w, r, err)
			return
		}
		c.refuse(w, r, statusOf(klaxon.ErrorCodeOf(err)), klaxon.ErrorMessageOf(err))
		return
	}
	c.back(w, r, "/me", msg)
}
