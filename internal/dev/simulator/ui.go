package simulator

import (
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

//go:embed ui.html
var pageSource string

// parsePage parses the simulator's page.
func parsePage() *template.Template {
	return template.Must(template.New("page").Funcs(template.FuncMap{
		"clock": func(t time.Time) string { return t.Local().Format("15:04:05") },
	}).Parse(pageSource))
}

// pagePhone is one phone on the page.
type pagePhone struct {
	Number    string
	Owned     bool
	SMSURL    string
	Behaviour Behaviour
	Messages  []Message
	Calls     []Call
}

// pageData is everything the page shows.
type pageData struct {
	Error    string
	Notice   string
	Owned    []string
	Phones   []pagePhone
	Answers  []string
	Statuses []string
}

// page serves GET /: every phone the simulator has seen with its texts and
// calls, and forms to text Klaxon and to set how a phone behaves. With
// ?fragment=1 it answers only the list of phones, for the page's refresh.
func (s *Simulator) servePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := pageData{
		Error:    q.Get("error"),
		Notice:   q.Get("notice"),
		Answers:  []string{AnswerHuman, AnswerMachine, AnswerNoAnswer, AnswerBusy, AnswerFail},
		Statuses: []string{"delivered", "undelivered", "failed"},
	}
	s.mu.Lock()
	for _, n := range s.numbers {
		data.Owned = append(data.Owned, n.phone)
	}
	for _, p := range s.phonesLocked() {
		pp := pagePhone{Number: p, Behaviour: s.behaviours[p]}
		if n := s.numberByPhoneLocked(p); n != nil {
			pp.Owned, pp.SMSURL = true, n.smsURL
		}
		for _, m := range s.messages {
			if m.To == p || m.From == p {
				pp.Messages = append(pp.Messages, m.Message)
			}
		}
		for _, c := range s.calls {
			if c.To == p {
				pp.Calls = append(pp.Calls, c.snapshot())
			}
		}
		data.Phones = append(data.Phones, pp)
	}
	s.mu.Unlock()
	// The people's phones first, Klaxon's own numbers after.
	slices.SortStableFunc(data.Phones, func(a, b pagePhone) int {
		switch {
		case a.Owned == b.Owned:
			return 0
		case a.Owned:
			return 1
		default:
			return -1
		}
	})

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	name := "page"
	if q.Get("fragment") != "" {
		name = "phones"
	}
	if err := s.page.ExecuteTemplate(w, name, data); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "simulator page failed", slog.Any("error", err))
	}
}

// backToPage redirects a form post back to the page with a message.
func backToPage(w http.ResponseWriter, r *http.Request, key, msg string) {
	http.Redirect(w, r, "/?"+url.Values{key: {msg}}.Encode(), http.StatusSeeOther)
}

// formSMS serves the page's "text Klaxon" form.
func (s *Simulator) formSMS(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
	if err := r.ParseForm(); err != nil {
		backToPage(w, r, "error", "The form could not be read.")
		return
	}
	req := smsRequest{From: r.PostForm.Get("from"), To: r.PostForm.Get("to"), Body: r.PostForm.Get("body")}
	if _, _, msg := s.controlSMS(r, req); msg != "" {
		backToPage(w, r, "error", msg)
		return
	}
	backToPage(w, r, "notice", "Text sent.")
}

// formBehaviour serves the page's "phone behaviour" form.
func (s *Simulator) formBehaviour(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
	if err := r.ParseForm(); err != nil {
		backToPage(w, r, "error", "The form could not be read.")
		return
	}
	f := r.PostForm
	number, b, err := parseBehaviour(behaviourJSON{
		Number:    f.Get("number"),
		Answer:    f.Get("answer"),
		Press:     f.Get("press"),
		SMSStatus: f.Get("sms_status"),
		RingDelay: f.Get("ring_delay"),
	})
	if err != nil {
		backToPage(w, r, "error", err.Error())
		return
	}
	s.SetBehaviour(number, b)
	backToPage(w, r, "notice", "Behaviour saved.")
}
