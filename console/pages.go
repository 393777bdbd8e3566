package console

import (
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// listLimit caps the pages list; the newest come first.
const listLimit = 1000

type pagesData struct {
	Filter   store.PageFilter
	Pages    []store.ListedPage
	Rows     template.HTML
	Services []string
	Statuses []string
}

// pageRows renders the list's rows: the one hot loop of the console (up to
// 1,000 pages), written out directly, every value escaped, because
// html/template's reflective escaping of each field took most of the
// list's time.
func pageRows(ps []store.ListedPage, now time.Time) template.HTML {
	var b strings.Builder
	b.Grow(len(ps) * 260)
	esc := html.EscapeString
	for _, p := range ps {
		id := strconv.FormatInt(p.ID, 10)
		st := esc(p.Status)
		b.WriteString(`<li class="page status-` + st + `"><a href="/pages/` + id + `"><span class="badge">` + st +
			`</span> <strong>#` + id + `</strong> ` + esc(p.Summary) + `</a><span class="meta">` + esc(p.Target))
		if p.Service != "" {
			b.WriteString(" · " + esc(p.Service))
		}
		b.WriteString(` · <time datetime="` + p.CreatedAt.UTC().Format(time.RFC3339) + `">` + since(now, p.CreatedAt) + `</time>`)
		if p.AckedBy != "" {
			b.WriteString(" · acked by " + esc(p.AckedBy))
		}
		b.WriteString("</span></li>\n")
	}
	return template.HTML(b.String())
}

// listPages is the pages list: open ones by default, filtered by status,
// service and target.
func (c *Console) listPages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.PageFilter{
		Status:  strings.ToLower(strings.TrimSpace(q.Get("status"))),
		Service: strings.TrimSpace(q.Get("service")),
		Target:  strings.TrimSpace(q.Get("target")),
		Limit:   listLimit,
	}
	if !q.Has("status") {
		f.Status = paging.StatusOpen
	}
	switch f.Status {
	case "", "all":
		f.Status = ""
	case paging.StatusOpen, paging.StatusAcked, paging.StatusResolved:
	default:
		c.refuse(w, r, http.StatusBadRequest, `Unknown status: use "open", "acked", "resolved" or "all".`)
		return
	}
	if len(f.Service) > 64 || len(f.Target) > 80 {
		c.refuse(w, r, http.StatusBadRequest, "The service and target filters are at most 64 and 80 characters.")
		return
	}
	if f.Target != "" {
		t, err := paging.ParseTarget(f.Target)
		if err != nil {
			c.refuse(w, r, http.StatusBadRequest, klaxon.ErrorMessageOf(err))
			return
		}
		f.Target = t.String()
	}
	ps, err := c.Store.FilterPages(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	svs, err := c.Store.Services(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := pagesData{Filter: f, Pages: ps, Rows: pageRows(ps, c.Clock.Now()), Statuses: []string{paging.StatusOpen, paging.StatusAcked, paging.StatusResolved}}
	for _, s := range svs {
		d.Services = append(d.Services, s.Name)
	}
	c.render(w, r, http.StatusOK, "pages", view{Title: "Pages", Nav: "pages", Session: sessionOf(r), Data: d})
}

type pageData struct {
	Page          paging.Page
	Events        []paging.Event
	Notifications []Notification
	Live          bool
}

func (c *Console) loadPage(r *http.Request) (pageData, error) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id <= 0 {
		return pageData{}, klaxon.Errorf(klaxon.ENotFound, "No such page.")
	}
	pg, err := c.Store.GetPage(r.Context(), id)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return pageData{}, klaxon.Errorf(klaxon.ENotFound, "No page %d.", id)
	}
	if err != nil {
		return pageData{}, err
	}
	evs, err := c.Store.PageEvents(r.Context(), id)
	if err != nil {
		return pageData{}, err
	}
	d := pageData{Page: pg, Events: evs, Live: pg.Status != paging.StatusResolved}
	if d.Live {
		// What is still to come; a workflow that cannot say leaves it out.
		if ns, err := c.Backend.Notifications(r.Context(), id); err == nil {
			d.Notifications = ns
		}
	}
	return d, nil
}

// showPage is one page with its timeline and its buttons.
func (c *Console) showPage(w http.ResponseWriter, r *http.Request) {
	d, err := c.loadPage(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "page", view{Title: "Page " + strconv.FormatInt(d.Page.ID, 10), Nav: "pages", Session: sessionOf(r), Data: d})
}

// timeline is a page's status and timeline alone, which the page's script
// polls to keep it live.
func (c *Console) timeline(w http.ResponseWriter, r *http.Request) {
	d, err := c.loadPage(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := c.pages["page"].ExecuteTemplate(w, "timeline-body", view{Session: sessionOf(r), Data: d}); err != nil {
		c.Logger.ErrorContext(r.Context(), "console render", "template", "timeline", "error", err)
	}
}

// pageAction acknowledges or resolves a page, as the signed-in person.
func (c *Console) pageAction(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r)
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		c.refuse(w, r, http.StatusNotFound, "No such page.")
		return
	}
	by := s.Handle
	if by == "" {
		by = "maintainer"
	}
	var msg string
	if mux.Vars(r)["action"] == "escalate" {
		msg, err = c.Backend.Escalate(r.Context(), id, by)
	} else {
		msg, err = c.Backend.PageAction(r.Context(), id, mux.Vars(r)["action"] == "resolve", by, "console")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/pages/"+strconv.FormatInt(id, 10), msg)
}
