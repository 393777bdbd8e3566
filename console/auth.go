package console

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/store"
)

// signInData is what the sign-in pages show.
type signInData struct {
	Handle string
	Next   string
	SentTo klaxon.Medium
}

func nextOf(r *http.Request) string {
	n := r.FormValue("next")
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") || strings.HasPrefix(n, "/\\") {
		return "/pages"
	}
	return n
}

func (c *Console) signInForm(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "signin", view{Title: "Sign in", CSRF: c.formCSRF(w, r), Data: signInData{Next: nextOf(r)}})
}

// signIn takes a handle. A device the user trusts opens a session at once;
// otherwise a login code goes to their first verified SMS number (else
// email address) and the browser is asked for it.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !checkFormCSRF(r) {
		c.refuse(w, r, http.StatusForbidden, "This form has expired; reload the page and try again.")
		return
	}
	handle := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("handle")), "@"))
	data := signInData{Handle: handle, Next: nextOf(r)}
	again := func(status int, msg string) {
		c.render(w, r, status, "signin", view{Title: "Sign in", CSRF: c.formCSRF(w, r), Error: msg, Data: data})
	}
	if handle == "" || len(handle) > 32 {
		again(http.StatusBadRequest, "Enter your handle (the name Klaxon knows you by).")
		return
	}
	u, err := c.Store.UserByHandle(ctx, handle)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound || err == nil && !u.Active {
		// The same answer as a user without a verified contact method:
		// the form does not tell who exists.
		again(http.StatusUnprocessableEntity, "No login code can be sent for that handle: check it, or ask a maintainer to add and verify a contact method for you.")
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if ck, err := r.Cookie(deviceCookie); err == nil && ck.Value != "" {
		ok, err := c.Store.TrustedDevice(ctx, hashToken(ck.Value), u.ID, c.Clock.Now())
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if ok {
			c.startSession(w, r, u.ID, false, data.Next)
			return
		}
	}
	chID, medium, err := c.Backend.SendLoginCode(ctx, u.ID)
	switch {
	case klaxon.ErrorCodeOf(err) == klaxon.EUnprocessable:
		again(http.StatusUnprocessableEntity, "No login code can be sent for that handle: check it, or ask a maintainer to add and verify a contact method for you.")
		return
	case klaxon.ErrorCodeOf(err) == klaxon.EThrottled:
		again(http.StatusTooManyRequests, klaxon.ErrorMessageOf(err))
		return
	case err != nil:
		c.fail(w, r, err)
		return
	}
	token, hash := newToken()
	if err := c.Store.StartLogin(ctx, hash, store.ConsoleLogin{UserID: u.ID, ChallengeID: chID, Trust: r.PostFormValue("trust") != ""},
		c.Clock.Now().Add(loginTTL)); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, loginCookie, token, loginTTL)
	http.Redirect(w, r, "/signin/code?via="+string(medium)+"&next="+safeNext(data.Next), http.StatusSeeOther)
}

func (c *Console) codeForm(w http.ResponseWriter, r *http.Request) {
	data := signInData{Next: nextOf(r), SentTo: klaxon.Medium(r.URL.Query().Get("via"))}
	if data.SentTo != klaxon.Email {
		data.SentTo = klaxon.SMS
	}
	c.render(w, r, http.StatusOK, "code", view{Title: "Enter your code", CSRF: c.formCSRF(w, r), Data: data})
}

// checkCode takes the login code of the browser's pending sign-in: the
// right one opens a session (and trusts the device when asked).
func (c *Console) checkCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !checkFormCSRF(r) {
		c.refuse(w, r, http.StatusForbidden, "This form has expired; reload the page and try again.")
		return
	}
	data := signInData{Next: nextOf(r), SentTo: klaxon.SMS}
	ck, err := r.Cookie(loginCookie)
	if err != nil || ck.Value == "" {
		c.render(w, r, http.StatusBadRequest, "signin", view{Title: "Sign in", CSRF: c.formCSRF(w, r), Error: "That sign-in has expired; enter your handle again.", Data: data})
		return
	}
	now := c.Clock.Now()
	l, err := c.Store.LoginByHash(ctx, hashToken(ck.Value), now)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		c.render(w, r, http.StatusBadRequest, "signin", view{Title: "Sign in", CSRF: c.formCSRF(w, r), Error: "That sign-in has expired; enter your handle again.", Data: data})
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	ok := false
	if code != "" && len(code) <= 16 {
		if ok, err = c.Backend.CheckLoginCode(ctx, l.ChallengeID, code); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	if !ok {
		c.render(w, r, http.StatusUnprocessableEntity, "code", view{Title: "Enter your code", CSRF: c.formCSRF(w, r), Error: "That code is not valid.", Data: data})
		return
	}
	if err := c.Store.FinishLogin(ctx, hashToken(ck.Value), now); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, loginCookie, "", -1)
	if l.Trust {
		token, hash := newToken()
		if err := c.Store.TrustDevice(ctx, hash, l.UserID, now.Add(deviceTTL)); err != nil {
			c.fail(w, r, err)
			return
		}
		c.setCookie(w, deviceCookie, token, deviceTTL)
	}
	c.startSession(w, r, l.UserID, false, data.Next)
}

// tokenSignIn opens an admin session for a maintainer who gives the API
// token.
func (c *Console) tokenSignIn(w http.ResponseWriter, r *http.Request) {
	if !checkFormCSRF(r) {
		c.refuse(w, r, http.StatusForbidden, "This form has expired; reload the page and try again.")
		return
	}
	if !c.tokenOK(r.PostFormValue("token")) {
		c.render(w, r, http.StatusUnauthorized, "signin", view{Title: "Sign in", CSRF: c.formCSRF(w, r), Error: "That is not this server's API token.", Data: signInData{Next: "/admin"}})
		return
	}
	c.startSession(w, r, 0, true, "/admin")
}

func (c *Console) tokenOK(t string) bool {
	t = strings.TrimSpace(t)
	return c.APIToken != "" && subtle.ConstantTimeCompare([]byte(t), []byte(c.APIToken)) == 1
}

func (c *Console) startSession(w http.ResponseWriter, r *http.Request, userID int64, admin bool, next string) {
	token, hash := newToken()
	csrf, _ := newToken()
	if err := c.Store.CreateSession(r.Context(), hash, userID, admin, csrf, c.Clock.Now().Add(sessionTTL)); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, sessionCookie, token, 0)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request) {
	if err := c.Store.DeleteSession(r.Context(), sessionOf(r).tokenHash); err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, sessionCookie, "", -1)
	c.back(w, r, "/signin", "You are signed out.")
}

// signOutEverywhere ends every session of the user and forgets every
// device they trusted.
func (c *Console) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	var err error
	if s.UserID == 0 {
		err = c.Store.DeleteSession(r.Context(), s.tokenHash)
	} else {
		err = c.Store.SignOutEverywhere(r.Context(), s.UserID)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.setCookie(w, sessionCookie, "", -1)
	c.setCookie(w, deviceCookie, "", -1)
	c.back(w, r, "/signin", "You are signed out on every device.")
}

// elevate gives the signed-in session the admin pages, for the API token.
func (c *Console) elevate(w http.ResponseWriter, r *http.Request) {
	if !c.tokenOK(r.PostFormValue("token")) {
		c.refuse(w, r, http.StatusUnauthorized, "That is not this server's API token.")
		return
	}
	if err := c.Store.MakeSessionAdmin(r.Context(), sessionOf(r).tokenHash); err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/admin", "You can see the admin pages now.")
}
