package console

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// AckLinks mints the one-click acknowledge links of page emails: a random
// token in the link, its hash in Postgres, so that only the email holds it.
type AckLinks struct {
	Store *store.Store
	// PublicURL is KLAXON_PUBLIC_URL, under which the links are built.
	PublicURL string
}

// AckLink returns a new link that acknowledges page for handle, once.
func (a AckLinks) AckLink(ctx context.Context, pageID int64, messageID, handle string) (string, error) {
	token, hash := newToken()
	if err := a.Store.CreateAckLink(ctx, hash, pageID, messageID, handle); err != nil {
		return "", fmt.Errorf("ack link: %w", err)
	}
	return strings.TrimSuffix(a.PublicURL, "/") + "/ack/" + token, nil
}

type ackData struct {
	Token string
	Page  paging.Page
	// Done says why the link does nothing any more, if it does not.
	Done string
}

// ackLinkState loads a link and its page, and says why it is dead when it
// is: used, or its page closed.
func (c *Console) ackLinkState(r *http.Request) (store.AckLink, ackData, error) {
	token := mux.Vars(r)["token"]
	d := ackData{Token: token}
	if len(token) < 20 || len(token) > 100 {
		return store.AckLink{}, d, klaxon.Errorf(klaxon.ENotFound, "This acknowledge link is not valid.")
	}
	l, err := c.Store.AckLinkByHash(r.Context(), hashToken(token))
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return l, d, klaxon.Errorf(klaxon.ENotFound, "This acknowledge link is not valid.")
	}
	if err != nil {
		return l, d, err
	}
	if d.Page, err = c.Store.GetPage(r.Context(), l.PageID); err != nil {
		return l, d, err
	}
	switch {
	case d.Page.Status == paging.StatusResolved:
		d.Done = "This page is resolved" + by(d.Page.ResolvedBy) + "; the link has expired."
	case l.UsedAt != nil:
		d.Done = "This link has been used already; the page is " + d.Page.Status + by(d.Page.SettledBy()) + "."
	case d.Page.Status == paging.StatusAcked:
		d.Done = "This page is already acknowledged" + by(d.Page.AckedBy) + "."
	}
	return l, d, nil
}

func by(who string) string {
	if who == "" {
		return ""
	}
	return " by " + who
}

// ackLinkForm shows what the link would acknowledge, with one button: a
// GET changes nothing, so mail scanners that fetch links do no harm.
func (c *Console) ackLinkForm(w http.ResponseWriter, r *http.Request) {
	_, d, err := c.ackLinkState(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "ack", view{Title: "Acknowledge page", CSRF: c.formCSRF(w, r), Data: d})
}

// ackLink acknowledges the link's page, once, as the person it was sent to.
func (c *Console) ackLink(w http.ResponseWriter, r *http.Request) {
	if !checkFormCSRF(r) {
		c.refuse(w, r, http.StatusForbidden, "This form has expired; open the link from the email again.")
		return
	}
	l, d, err := c.ackLinkState(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Done != "" {
		c.render(w, r, http.StatusConflict, "ack", view{Title: "Acknowledge page", Data: d})
		return
	}
	used, err := c.Store.UseAckLink(r.Context(), hashToken(d.Token))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if !used {
		d.Done = "This link has been used already."
		c.render(w, r, http.StatusConflict, "ack", view{Title: "Acknowledge page", Data: d})
		return
	}
	who := l.Handle
	if who == "" {
		who = "email"
	}
	msg, err := c.Backend.PageAction(r.Context(), l.PageID, false, who, "email")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Page, err = c.Store.GetPage(r.Context(), l.PageID); err != nil {
		c.fail(w, r, err)
		return
	}
	d.Done = msg
	c.render(w, r, http.StatusOK, "ack", view{Title: "Page acknowledged", Flash: msg, Data: d})
}
