// Package console is Klaxon's web console: the pages a person on call
// needs on a phone at 4 a.m. — what is open, acknowledging it, who is on
// call, their own contact methods — and the maintainers' admin pages. It is
// server-rendered HTML (html/template, embedded), works without JavaScript,
// and asks the rest of Klaxon (through Backend) to do everything the REST
// API does, the same way: it implements no rule of its own.
package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Backend is what the console asks of the rest of Klaxon: the code paths
// the REST API runs, so that a rule (a throttle, a refusal, how a page is
// acknowledged) has one implementation.
type Backend interface {
	// SendLoginCode sends a login code, under the OTP API's throttles, to
	// the user's first verified SMS number, else their first verified
	// email address, and returns the challenge to check it against.
	SendLoginCode(ctx context.Context, userID int64) (challengeID string, sentTo klaxon.Medium, err error)
	// CheckLoginCode checks a login code once; false for any refusal.
	CheckLoginCode(ctx context.Context, challengeID, code string) (bool, error)
	// PageAction acknowledges (or resolves) a page through its workflow,
	// and says what happened in one sentence.
	PageAction(ctx context.Context, pageID int64, resolve bool, by, via string) (string, error)
	// Escalate has an open page's next step page its people now.
	Escalate(ctx context.Context, pageID int64, by string) (string, error)
	// AddContact adds a contact method and sends its verification code.
	AddContact(ctx context.Context, userID int64, medium, address string) (store.Contact, error)
	// VerifyContact checks a contact method's verification code.
	VerifyContact(ctx context.Context, contactID int64, code string) error
	// TestSend sends a short test message to a contact method.
	TestSend(ctx context.Context, c store.Contact) error
	// AddOverride has handle cover a rotation from start to end.
	AddOverride(ctx context.Context, rotation, handle string, start, end time.Time) error
	// Calendar is a rotation's shifts as an iCalendar text, the API's
	// .ics export.
	Calendar(ctx context.Context, rotation string) (string, error)
	// RotateServiceKey gives a service a new integration key, returned
	// once.
	RotateServiceKey(ctx context.Context, service string) (string, error)
}

// Deps are what the console uses.
type Deps struct {
	Store   *store.Store
	Backend Backend
	Logger  *slog.Logger
	Clock   klaxon.Clock
	// PublicURL is KLAXON_PUBLIC_URL: links in emails are built from it,
	// and cookies are Secure when it is https.
	PublicURL string
	// APIToken, typed into the sign-in page's maintainer form, opens an
	// admin session.
	APIToken string
	Brand    string
	// PagingNumber is KLAXON_FROM_NUMBER, which takes reply codes.
	PagingNumber string
}

// Lifetimes of what a sign-in leaves behind.
const (
	sessionTTL = 12 * time.Hour
	deviceTTL  = 30 * 24 * time.Hour
	loginTTL   = 10 * time.Minute
)

// Cookie names.
const (
	sessionCookie = "klaxon_session"
	deviceCookie  = "klaxon_device"
	loginCookie   = "klaxon_login"
	csrfCookie    = "klaxon_csrf"
	flashCookie   = "klaxon_flash"
)

// Console serves the web console.
type Console struct {
	Deps
	pages  map[string]*template.Template
	secure bool
}

// New parses the console's templates.
func New(d Deps) (*Console, error) {
	if d.Clock == nil {
		d.Clock = klaxon.SystemClock{}
	}
	if d.Brand == "" {
		d.Brand = "Klaxon"
	}
	c := &Console{Deps: d, pages: map[string]*template.Template{}, secure: strings.HasPrefix(d.PublicURL, "https://")}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", base, err)
		}
		c.pages[base] = t
	}
	return c, nil
}

// Routes adds the console's routes to r: the HTML pages at /, the ack
// links at /ack/{token}, and the static files.
func (c *Console) Routes(r *mux.Router) {
	static, _ := fs.Sub(staticFS, "static")
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", cacheFor(http.FileServerFS(static)))).Methods(http.MethodGet)
	r.HandleFunc("/", c.home).Methods(http.MethodGet)
	r.HandleFunc("/signin", c.signInForm).Methods(http.MethodGet)
	r.HandleFunc("/signin", c.signIn).Methods(http.MethodPost)
	r.HandleFunc("/signin/code", c.codeForm).Methods(http.MethodGet)
	r.HandleFunc("/signin/code", c.checkCode).Methods(http.MethodPost)
	r.HandleFunc("/signin/token", c.tokenSignIn).Methods(http.MethodPost)
	r.HandleFunc("/ack/{token}", c.ackLinkForm).Methods(http.MethodGet)
	r.HandleFunc("/ack/{token}", c.ackLink).Methods(http.MethodPost)

	r.Handle("/signout", c.signedIn(c.signOut)).Methods(http.MethodPost)
	r.Handle("/signout/everywhere", c.signedIn(c.signOutEverywhere)).Methods(http.MethodPost)
	r.Handle("/pages", c.signedIn(c.listPages)).Methods(http.MethodGet)
	r.Handle("/pages/{id:[0-9]+}", c.signedIn(c.showPage)).Methods(http.MethodGet)
	r.Handle("/pages/{id:[0-9]+}/timeline", c.signedIn(c.timeline)).Methods(http.MethodGet)
	r.Handle("/pages/{id:[0-9]+}/{action:ack|resolve|escalate}", c.signedIn(c.pageAction)).Methods(http.MethodPost)
	r.Handle("/oncall", c.signedIn(c.onCall)).Methods(http.MethodGet)
	r.Handle("/oncall/{name}.ics", c.signedIn(c.calendar)).Methods(http.MethodGet)
	r.Handle("/oncall/{name}/overrides", c.signedIn(c.addOverride)).Methods(http.MethodPost)
	r.Handle("/me", c.signedIn(c.me)).Methods(http.MethodGet)
	r.Handle("/me/contacts", c.signedIn(c.addContact)).Methods(http.MethodPost)
	r.Handle("/me/contacts/{id:[0-9]+}/{op:verify|remove|test}", c.signedIn(c.contactOp)).Methods(http.MethodPost)
	r.Handle("/admin", c.signedIn(c.admin)).Methods(http.MethodGet)
	r.Handle("/admin/elevate", c.signedIn(c.elevate)).Methods(http.MethodPost)
	r.Handle("/admin/services/{name}/rotate-key", c.signedIn(c.rotateKey)).Methods(http.MethodPost)
}

func cacheFor(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// session is the signed-in person of a request.
type session struct {
	store.ConsoleSession
	tokenHash []byte
}

type sessionKey struct{}

func sessionOf(r *http.Request) session {
	s, _ := r.Context().Value(sessionKey{}).(session)
	return s
}

// signedIn admits requests with a live session; others are sent to sign
// in (a GET) or refused (anything else). Every POST must carry the
// session's CSRF token.
func (c *Console) signedIn(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.sessionFrom(r)
		if err != nil {
			if klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
				c.fail(w, r, err)
				return
			}
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/signin?next="+safeNext(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			c.refuse(w, r, http.StatusUnauthorized, "Your session has ended; sign in again.")
			return
		}
		if r.Method != http.MethodGet && !sameToken(r.PostFormValue("csrf"), s.CSRF) {
			c.refuse(w, r, http.StatusForbidden, "This form has expired or did not come from this site; reload the page and try again.")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, s)))
	})
}

func (c *Console) sessionFrom(r *http.Request) (session, error) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return session{}, klaxon.ErrNotFound
	}
	h := hashToken(ck.Value)
	cs, err := c.Store.SessionByHash(r.Context(), h, c.Clock.Now())
	if err != nil {
		return session{}, err
	}
	return session{ConsoleSession: cs, tokenHash: h}, nil
}

// newToken returns a random secret for a cookie or a link, and its hash
// (what Postgres keeps).
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	t := base64.RawURLEncoding.EncodeToString(b)
	return t, hashToken(t)
}

func hashToken(t string) []byte {
	h := sha256.Sum256([]byte(t))
	return h[:]
}

func sameToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// setCookie sets an HttpOnly, SameSite=Lax cookie, Secure behind https;
// maxAge 0 makes it a browser-session cookie, negative deletes it.
func (c *Console) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.secure}
	switch {
	case maxAge < 0:
		ck.MaxAge = -1
	case maxAge > 0:
		ck.MaxAge = int(maxAge / time.Second)
	}
	http.SetCookie(w, ck)
}

// formCSRF returns the CSRF token of a form shown before sign-in (a
// cookie the form must echo), setting it when the browser has none.
func (c *Console) formCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	t, _ := newToken()
	c.setCookie(w, csrfCookie, t, 0)
	return t
}

// checkFormCSRF checks a form posted before sign-in against its cookie.
func checkFormCSRF(r *http.Request) bool {
	ck, err := r.Cookie(csrfCookie)
	return err == nil && sameToken(r.PostFormValue("csrf"), ck.Value)
}

// view is what every template gets.
type view struct {
	Brand   string
	Title   string
	Nav     string
	Session session
	CSRF    string
	Flash   string
	Error   string
	Data    any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := c.pages[name]
	if !ok {
		c.fail(w, r, fmt.Errorf("console: no template %q", name))
		return
	}
	v.Brand = c.Brand
	if v.Session.CSRF != "" && v.CSRF == "" {
		v.CSRF = v.Session.CSRF
	}
	if ck, err := r.Cookie(flashCookie); err == nil && v.Flash == "" {
		if f, err := base64.RawURLEncoding.DecodeString(ck.Value); err == nil && len(f) <= 300 {
			v.Flash = string(f)
		}
		c.setCookie(w, flashCookie, "", -1)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := t.Execute(w, v); err != nil {
		c.Logger.ErrorContext(r.Context(), "console render", "template", name, "error", err)
	}
}

// refuse answers a request the console will not do with one sentence.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", view{Title: http.StatusText(status), Session: sessionOf(r), Error: msg})
}

// fail answers err: its kind's status and sentence for a klaxon error,
// a 500 (logged, never shown) for anything else.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(klaxon.ErrorCodeOf(err))
	msg := klaxon.ErrorMessageOf(err)
	if status >= 500 {
		c.Logger.ErrorContext(r.Context(), "console request failed", "path", r.URL.Path, "error", err)
		var ke *klaxon.Error
		if !errors.As(err, &ke) {
			msg = "Something went wrong on our side; try again."
		}
	}
	c.refuse(w, r, status, msg)
}

func statusOf(code klaxon.ErrorCode) int {
	switch code {
	case klaxon.EInvalid:
		return http.StatusBadRequest
	case klaxon.EUnprocessable:
		return http.StatusUnprocessableEntity
	case klaxon.ENotFound:
		return http.StatusNotFound
	case klaxon.EConflict:
		return http.StatusConflict
	case klaxon.EThrottled:
		return http.StatusTooManyRequests
	case klaxon.EUnauthorized:
		return http.StatusUnauthorized
	case klaxon.EUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// back redirects to path after a form, with a one-line note for the next
// page (in a cookie, so that no link can put words in the console's mouth).
func (c *Console) back(w http.ResponseWriter, r *http.Request, path, flash string) {
	if flash != "" {
		c.setCookie(w, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(flash)), time.Minute)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// safeNext keeps a redirect target on this site.
func safeNext(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/pages"
	}
	return url.QueryEscape(p)
}

func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	if _, err := c.sessionFrom(r); err == nil {
		http.Redirect(w, r, "/pages", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
