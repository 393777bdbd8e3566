package simulator

import (
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
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

// pagePhone is one person's phone on the page, with its texts and calls in
// one timeline.
type pagePhone struct {
	Number    string
	Behaviour Behaviour
	Items     []pageItem
}

// pageItem is one entry of a phone's timeline: a text or a call.
type pageItem struct {
	At      time.Time
	Message *Message
	Call    *Call
	// Outgoing is set for what the phone sent: a text to Klaxon, a call it
	// dialled.
	Outgoing bool
}

// pageNumber is one of Klaxon's own numbers.
type pageNumber struct {
	Number, Label, SMSURL string
}

// pageData is everything the page shows.
type pageData struct {
	Error    string
	Notice   string
	Links    []Link
	Owned    []pageNumber
	Phones   []pagePhone
	Live     []Call
	Answers  []answerChoice
	Statuses []string
	Keys     []string
}

// answerChoice is one way a phone can take calls, as the page names it.
type answerChoice struct{ Value, Label string }

// answerChoices are the phone behaviours for calls, named for a person.
var answerChoices = []answerChoice{
	{AnswerPerson, "ring until I answer (live call with keypad)"},
	{AnswerHuman, "auto-answer at once (presses the keys below)"},
	{AnswerMachine, "voicemail answers"},
	{AnswerNoAnswer, "nobody answers"},
	{AnswerBusy, "busy"},
	{AnswerFail, "call fails"},
}

// page serves GET /: Klaxon's numbers, every person's phone with its texts
// and calls in one timeline, the calls under way with their keypads, and
// forms to text or call Klaxon and to set how a phone behaves. With
// ?fragment=1 it answers only the live part, for the page's refresh.
func (s *Simulator) servePage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	data := pageData{
		Error:    q.Get("error"),
		Notice:   q.Get("notice"),
		Links:    s.cfg.Links,
		Answers:  answerChoices,
		Statuses: []string{"delivered", "undelivered", "failed"},
		Keys:     []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"},
	}
	s.mu.Lock()
	ours := make(map[string]bool, len(s.numbers))
	for _, n := range s.numbers {
		ours[n.phone] = true
		data.Owned = append(data.Owned, pageNumber{Number: n.phone, Label: n.friendlyName, SMSURL: n.smsURL})
	}
	for _, p := range s.phonesLocked() {
		if ours[p] {
			continue
		}
		pp := pagePhone{Number: p, Behaviour: s.behaviourLocked(p)}
		for _, m := range s.messages {
			if m.To == p || m.From == p {
				msg := m.Message
				pp.Items = append(pp.Items, pageItem{At: msg.Created, Message: &msg, Outgoing: m.From == p})
			}
		}
		for _, c := range s.calls {
			if c.To == p || c.From == p {
				snap := c.snapshot()
				pp.Items = append(pp.Items, pageItem{At: snap.Created, Call: &snap, Outgoing: c.From == p})
			}
		}
		slices.SortStableFunc(pp.Items, func(a, b pageItem) int { return a.At.Compare(b.At) })
		data.Phones = append(data.Phones, pp)
	}
	for _, c := range s.calls {
		if c.live && !c.finished {
			data.Live = append(data.Live, c.snapshot())
		}
	}
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	name := "page"
	if q.Get("fragment") != "" {
		name = "live"
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

// formDial serves the page's "call Klaxon" form.
func (s *Simulator) formDial(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
	if err := r.ParseForm(); err != nil {
		backToPage(w, r, "error", "The form could not be read.")
		return
	}
	f := r.PostForm
	if _, err := s.Dial(strings.TrimSpace(f.Get("from")), strings.TrimSpace(f.Get("to")), DialOptions{}); err != nil {
		backToPage(w, r, "error", sentence(err))
		return
	}
	backToPage(w, r, "notice", "Calling… use the keypad on the live call below.")
}

// formCallAction serves the live call's answer, keypad and hang-up buttons.
func (s *Simulator) formCallAction(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxControlBody)
	if err := r.ParseForm(); err != nil {
		backToPage(w, r, "error", "The form could not be read.")
		return
	}
	if _, err := s.callAction(r.PathValue("sid"), r.PathValue("action"), r.PostForm.Get("digits")); err != nil {
		backToPage(w, r, "error", sentence(err))
		return
	}
	if r.Header.Get("X-Requested-With") == "fetch" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/#call-"+r.PathValue("sid"), http.StatusSeeOther)
}
