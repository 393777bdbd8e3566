package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode"

	"github.com/twilio/twilio-go/twiml"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/store"
)

// twilioSignature admits only requests signed by Twilio: the
// X-Twilio-Signature of KLAXON_PUBLIC_URL + the request URI and the form,
// under the auth token (or the secondary one, during a rotation). Anything
// else gets 403 and changes nothing. It also caps and parses the form.
func (g *Gateway) twilioSignature(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := strings.TrimPrefix(r.URL.Path, "/twilio")
		if mt := r.Header.Get("Content-Type"); !strings.HasPrefix(mt, "application/x-www-form-urlencoded") {
			g.Metrics.Webhooks.WithLabelValues(route, "bad_request").Inc()
			http.Error(w, "Content-Type must be application/x-www-form-urlencoded.", http.StatusUnsupportedMediaType)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
		if err := r.ParseForm(); err != nil {
			g.Metrics.Webhooks.WithLabelValues(route, "bad_request").Inc()
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "Request body too large.", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "Malformed form body.", http.StatusBadRequest)
			return
		}
		sig := r.Header.Get("X-Twilio-Signature")
		fullURL := g.Config.PublicURL + r.URL.RequestURI()
		if sig == "" || !g.validSignature(fullURL, r.PostForm, sig) {
			g.Metrics.Webhooks.WithLabelValues(route, "bad_signature").Inc()
			g.Logger.WarnContext(r.Context(), "webhook signature rejected", "route", route)
			http.Error(w, "Invalid or missing X-Twilio-Signature.", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (g *Gateway) validSignature(fullURL string, form url.Values, sig string) bool {
	want, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	for _, token := range g.authTokens {
		if hmac.Equal(Signature(token, fullURL, form), want) {
			return true
		}
	}
	return false
}

// Signature computes Twilio's webhook signature: HMAC-SHA1 under the auth
// token of the full URL followed by every POST parameter's name and value,
// sorted by name (and value, for repeated names).
func Signature(authToken, fullURL string, form url.Values) []byte {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return mac.Sum(nil)
}

// smsStatus applies a message status callback: recorded once per status,
// applied monotonically.
func (g *Gateway) smsStatus(w http.ResponseWriter, r *http.Request) {
	sid := r.PostForm.Get("MessageSid")
	status := r.PostForm.Get("MessageStatus")
	if status == "" {
		status = r.PostForm.Get("SmsStatus")
	}
	g.applyStatus(w, r, "/sms/status", sid, status, "", r.PostForm.Get("ErrorCode"))
}

// voiceStatus applies a call status callback.
func (g *Gateway) voiceStatus(w http.ResponseWriter, r *http.Request) {
	sid := r.PostForm.Get("CallSid")
	status := r.PostForm.Get("CallStatus")
	detail := r.PostForm.Get("AnsweredBy")
	g.applyStatus(w, r, "/voice/status", sid, status, detail, r.PostForm.Get("ErrorCode"))
}

func (g *Gateway) applyStatus(w http.ResponseWriter, r *http.Request, route, sid, status, detail, errorCode string) {
	if sid == "" || status == "" || len(sid) > 64 || len(status) > 32 {
		g.Metrics.Webhooks.WithLabelValues(route, "bad_request").Inc()
		http.Error(w, "A status callback needs a Sid and a status.", http.StatusBadRequest)
		return
	}
	fresh, messageID, err := g.Store.ApplyStatus(r.Context(), sid, status, detail, errorCode)
	if err != nil {
		g.Logger.ErrorContext(r.Context(), "apply status callback", "route", route, "error", err)
		// Twilio retries on 5xx: nothing is lost.
		http.Error(w, "Temporarily unavailable.", http.StatusServiceUnavailable)
		return
	}
	result := "stored"
	if !fresh {
		result = "duplicate"
	}
	g.Metrics.Webhooks.WithLabelValues(route, result).Inc()
	if fresh && messageID != "" && errorCode == "21610" {
		// The carrier says the recipient opted out: mirror it.
		if m, _, _, err := g.Store.GetMessage(r.Context(), messageID); err == nil {
			_ = g.Store.OptOut(r.Context(), m.To, m.From, "carrier")
		}
	}
	if fresh && messageID != "" {
		// (paging) a page's timeline records the status, and a failure moves on at once.
		g.pageDeliveryStatus(r.Context(), messageID, status, detail, errorCode)
		// (chat) a text sent from chat that did not arrive is told there.
		g.chatDeliveryStatus(r.Context(), messageID, status)
	}
	w.WriteHeader(http.StatusNoContent)
}

// voice renders the TwiML of a call: for an outbound call placed by the
// delivery pipeline, the message read aloud slowly, twice.
func (g *Gateway) voice(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("m")
	if id == "" {
		g.inboundCall(w, r) // (inbound) someone called one of our numbers
		return
	}
	m, _, _, err := g.Store.GetMessage(r.Context(), id)
	if err != nil {
		if klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
			g.Logger.ErrorContext(r.Context(), "voice message lookup", "error", err)
		}
		writeTwiML(w, sayAndHangUp("Sorry, this message is no longer available. Goodbye."))
		return
	}
	writeTwiML(w, g.messageTwiML(r.Context(), m))
}

// messageTwiML is what a person hears when they answer a call that carries
// message m.
func (g *Gateway) messageTwiML(ctx context.Context, m store.MessageRecord) []twiml.Element {
	switch m.Purpose {
	case store.PurposePage:
		return g.pageTwiML(ctx, m) // (paging) a page's call takes a keypress to acknowledge
	case store.PurposeReadout:
		return g.readoutTwiML(ctx, m) // "call 3": the page in full, with the dial-in's keys
	}
	intro := "This is " + g.Config.Brand + "."
	body := spokenText(m.Body)
	return []twiml.Element{
		&twiml.VoiceSay{Message: intro},
		&twiml.VoicePause{Length: "1"},
		&twiml.VoiceSay{Message: body},
		&twiml.VoicePause{Length: "1"},
		&twiml.VoiceSay{Message: "Again: " + body},
		&twiml.VoicePause{Length: "1"},
		&twiml.VoiceSay{Message: "Goodbye."},
		&twiml.VoiceHangup{},
	}
}

func sayAndHangUp(text string) []twiml.Element {
	return []twiml.Element{&twiml.VoiceSay{Message: text}, &twiml.VoiceHangup{}}
}

// writeTwiML answers a voice webhook with TwiML.
func writeTwiML(w http.ResponseWriter, verbs []twiml.Element) {
	doc, err := twiml.Voice(verbs)
	if err != nil {
		http.Error(w, "Could not render TwiML.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write([]byte(doc))
}

// spokenText is a message as a person would read it aloud: whitespace
// folded, the first letter capitalised, ending as a sentence.
func spokenText(s string) string {
	s = spokenSentence(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}
