package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/twilio/twilio-go/twiml"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/pager"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// pathDialIn is where the keys pressed during a dial-in go.
const pathDialIn = "/twilio/voice/dialin"

// dialInTimeout bounds the look-ups of one dial-in answer, so a caller
// hears an apology rather than silence when Postgres is slow or down.
const dialInTimeout = 3 * time.Second

// dialInSorry is what a caller hears when Klaxon cannot answer just now.
func dialInSorry(brand string) []twiml.Element {
	return sayAndHangUp(fmt.Sprintf("Sorry, %s cannot read your pages right now. Please try again in a minute, or reply to the page's text. Goodbye.", brand))
}

// dialIn answers a call to the paging number ("pull"): a caller whose
// verified number Klaxon knows hears their unresolved pages, newest first,
// one menu each; anyone else hears one sentence and the call ends.
func (g *Gateway) dialIn(w http.ResponseWriter, r *http.Request, caller string) {
	ctx, cancel := context.WithTimeout(r.Context(), dialInTimeout)
	defer cancel()
	u, err := g.Store.UserByVerifiedPhone(ctx, caller)
	switch {
	case klaxon.ErrorCodeOf(err) == klaxon.ENotFound:
		g.Metrics.Webhooks.WithLabelValues("/voice", "dialin_unknown").Inc()
		writeTwiML(w, sayAndHangUp(fmt.Sprintf("You have reached the %s paging number. It does not know the number you are calling from, so it has nothing to read to you. Goodbye.", g.Config.Brand)))
		return
	case err != nil:
		g.Logger.ErrorContext(ctx, "dial-in caller", "error", err)
		g.Metrics.Webhooks.WithLabelValues("/voice", "dialin_error").Inc()
		writeTwiML(w, dialInSorry(g.Config.Brand))
		return
	}
	pages, err := g.Store.CallerPages(ctx, caller)
	if err != nil {
		g.Logger.ErrorContext(ctx, "dial-in pages", "error", err)
		g.Metrics.Webhooks.WithLabelValues("/voice", "dialin_error").Inc()
		writeTwiML(w, dialInSorry(g.Config.Brand))
		return
	}
	g.Metrics.Webhooks.WithLabelValues("/voice", "dialin").Inc()
	name := u.Name
	if name == "" {
		name = u.Handle
	}
	greeting := fmt.Sprintf("Hello %s. This is %s. ", name, g.Config.Brand)
	if len(pages) == 0 {
		writeTwiML(w, sayAndHangUp(greeting+"You have no open pages. Goodbye."))
		return
	}
	count := "You have 1 open page."
	if len(pages) > 1 {
		count = fmt.Sprintf("You have %d open pages, newest first.", len(pages))
	}
	writeTwiML(w, append([]twiml.Element{say(greeting + count)}, g.dialInMenu(pages, 0)...))
}

// dialInMenu reads pages[i] and offers its keys: 1 acknowledges (while it
// is open), 2 resolves, 3 goes on to the next page (if there is one).
func (g *Gateway) dialInMenu(pages []store.CallerPage, i int) []twiml.Element {
	p := pages[i]
	text := fmt.Sprintf("%s: %s", upperFirst(spokenPage(p.ID, p.Code)), spokenText(p.Summary))
	if p.Status == paging.StatusAcked {
		text += " It is acknowledged" + byClause(p.AckedBy) + "."
	}
	var keys []string
	if p.Status == paging.StatusOpen {
		keys = append(keys, "1 to acknowledge")
	}
	keys = append(keys, "2 to resolve")
	if i+1 < len(pages) {
		keys = append(keys, "3 for the next page")
	}
	action := g.Config.PublicURL + pathDialIn + "?p=" + strconv.FormatInt(p.ID, 10)
	return []twiml.Element{
		&twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Timeout: "8", Action: action, Method: http.MethodPost,
			InnerElements: []twiml.Element{
				slowly(text),
				&twiml.VoicePause{Length: "1"},
				say("Press " + joinSpoken(keys) + "."),
			},
		},
		say("No key was pressed. Goodbye."),
		&twiml.VoiceHangup{},
	}
}

// dialInGather is /twilio/voice/dialin: a key pressed at a page's menu
// during a dial-in (or a call back after "call 3").
func (g *Gateway) dialInGather(w http.ResponseWriter, r *http.Request) {
	const route = "/voice/dialin"
	pageID, err := strconv.ParseInt(r.URL.Query().Get("p"), 10, 64)
	digits := strings.TrimSpace(r.PostForm.Get("Digits"))
	if err != nil || pageID <= 0 || len(digits) > 16 {
		g.Metrics.Webhooks.WithLabelValues(route, "bad_request").Inc()
		http.Error(w, "A dial-in key needs the page it was pressed for.", http.StatusBadRequest)
		return
	}
	// The caller is the other end of the call: From when they dialled in,
	// To when Klaxon called them back.
	other := r.PostForm.Get("From")
	if r.PostForm.Get("Direction") != "inbound" {
		other = r.PostForm.Get("To")
	}
	caller, _ := phone.Normalize(other, g.Config.DefaultRegion)
	ctx, cancel := context.WithTimeout(r.Context(), dialInTimeout)
	defer cancel()
	u, err := g.Store.UserByVerifiedPhone(ctx, caller)
	if err != nil {
		g.Metrics.Webhooks.WithLabelValues(route, "unknown_caller").Inc()
		if klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
			writeTwiML(w, dialInSorry(g.Config.Brand))
			return
		}
		writeTwiML(w, sayAndHangUp("This phone is no longer known to "+g.Config.Brand+". Goodbye."))
		return
	}
	pages, err := g.Store.CallerPages(ctx, caller)
	if err != nil {
		g.Logger.ErrorContext(ctx, "dial-in pages", "error", err)
		writeTwiML(w, dialInSorry(g.Config.Brand))
		return
	}
	i := -1
	for k, p := range pages {
		if p.ID == pageID {
			i = k
		}
	}
	if i < 0 {
		// Resolved meanwhile (or never this caller's): say so, read on.
		g.Metrics.Webhooks.WithLabelValues(route, "closed").Inc()
		if len(pages) == 0 {
			writeTwiML(w, sayAndHangUp("That page is closed, and you have no other open pages. Goodbye."))
			return
		}
		writeTwiML(w, append([]twiml.Element{say("That page is closed.")}, g.dialInMenu(pages, 0)...))
		return
	}
	var update, status string
	switch digits {
	case "":
		writeTwiML(w, sayAndHangUp("No key was pressed. Goodbye."))
		return
	case "1":
		update, status = workflows.UpdateAck, paging.StatusAcked
	case "2":
		update, status = workflows.UpdateResolve, paging.StatusResolved
	case "3":
		g.Metrics.Webhooks.WithLabelValues(route, "next").Inc()
		if i+1 >= len(pages) {
			writeTwiML(w, sayAndHangUp("That was your last open page. Goodbye."))
			return
		}
		writeTwiML(w, g.dialInMenu(pages, i+1))
		return
	default:
		g.Metrics.Webhooks.WithLabelValues(route, "other_key").Inc()
		writeTwiML(w, append([]twiml.Element{say("That key does nothing.")}, g.dialInMenu(pages, i)...))
		return
	}
	actx, acancel := context.WithTimeout(r.Context(), gatherTimeout)
	defer acancel()
	res, err := pager.Apply(actx, g.Temporal, g.Store, pager.Update{
		PageID: pageID, WorkflowID: workflows.PageWorkflowID(g.Config.TaskQueue, pageID),
		Name: update, Status: status, Action: paging.Action{By: u.Handle, Via: "call"},
	})
	code := pages[i].Code
	var text string
	name := fmt.Sprintf("Page %d", pageID)
	switch {
	case err != nil:
		g.Logger.ErrorContext(r.Context(), "dial-in page action", "page", pageID, "error", err)
		g.Metrics.Webhooks.WithLabelValues(route, "failed").Inc()
		writeTwiML(w, sayAndHangUp(fmt.Sprintf("Sorry, page %d could not be updated just now. Please try again in a minute, or reply %d%s to its text. Goodbye.", pageID, code, map[string]string{paging.StatusAcked: "a", paging.StatusResolved: "c"}[status])))
		return
	case res.Changed && status == paging.StatusAcked:
		text = name + " is acknowledged, and its other notifications are canceled."
	case res.Changed:
		text = name + " is resolved."
	case res.Status == paging.StatusResolved:
		text = name + " was already resolved" + byClause(res.By) + "."
	default:
		text = name + " was already acknowledged" + byClause(res.By) + "."
	}
	g.Metrics.Webhooks.WithLabelValues(route, status).Inc()
	if i+1 < len(pages) {
		writeTwiML(w, append([]twiml.Element{say(text + " Next.")}, g.dialInMenu(pages, i+1)...))
		return
	}
	writeTwiML(w, sayAndHangUp(text+" That was your last open page. Goodbye."))
}

// spokenSentence ends a summary as a sentence, for reading aloud.
func spokenSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return s
	}
	if !strings.ContainsAny(s[len(s)-1:], ".!?") {
		s += "."
	}
	return s
}

// upperFirst capitalises the first letter of s.
func upperFirst(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// joinSpoken joins choices as a person says them: "a, b or c".
func joinSpoken(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// readoutTwiML is the call back a person asked for by texting "call 3":
// the page read in full, summary and details, then its keys.
func (g *Gateway) readoutTwiML(ctx context.Context, m store.MessageRecord) []twiml.Element {
	ctx, cancel := context.WithTimeout(ctx, dialInTimeout)
	defer cancel()
	id, err := strconv.ParseInt(m.Ref, 10, 64)
	if err != nil {
		return sayAndHangUp("Sorry, this page is no longer available. Goodbye.")
	}
	pg, err := g.Store.GetPage(ctx, id)
	if err != nil {
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			return sayAndHangUp("Sorry, this page is no longer available. Goodbye.")
		}
		return dialInSorry(g.Config.Brand)
	}
	code := 0
	if rc, err := g.Store.ReplyCodeOfPage(ctx, id, m.To); err == nil {
		code = rc.Code
	}
	intro := fmt.Sprintf("This is %s, with the page you asked for.", g.Config.Brand)
	if pg.Status == paging.StatusResolved {
		return sayAndHangUp(intro + fmt.Sprintf(" Page %d is already resolved%s. Goodbye.", pg.ID, byClause(pg.ResolvedBy)))
	}
	text := fmt.Sprintf("%s: %s", upperFirst(spokenPage(pg.ID, code)), spokenText(pg.Summary))
	if d := strings.TrimSpace(pg.Details); d != "" {
		text += " Details: " + spokenSentence(clipSpoken(d, 1200))
	}
	keys := []string{"2 to resolve"}
	if pg.Status == paging.StatusOpen {
		keys = append([]string{"1 to acknowledge"}, keys...)
	} else {
		text += " It is acknowledged" + byClause(pg.AckedBy) + "."
	}
	action := g.Config.PublicURL + pathDialIn + "?" + url.Values{"p": {strconv.FormatInt(pg.ID, 10)}}.Encode()
	return []twiml.Element{
		say(intro),
		&twiml.VoiceGather{
			Input: "dtmf", NumDigits: "1", Timeout: "8", Action: action, Method: http.MethodPost,
			InnerElements: []twiml.Element{slowly(text), &twiml.VoicePause{Length: "1"}, say("Press " + joinSpoken(keys) + ".")},
		},
		say("No key was pressed. Goodbye."),
		&twiml.VoiceHangup{},
	}
}

// clipSpoken shortens text read aloud to about n characters, at a word.
func clipSpoken(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut <= 0 {
		cut = n
	}
	return s[:cut] + ". The rest is in the page's details"
}
