package simulator

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
)

// The message directions.
const (
	directionOutboundAPI   = "outbound-api"
	directionOutboundReply = "outbound-reply"
	directionInbound       = "inbound"
)

// maxBodyChars is Twilio's limit on a (concatenated) message body.
const maxBodyChars = 1600

// message is the simulator's record of an SMS.
type message struct {
	Message
	account             string
	messagingServiceSID string
	statusCallback      string
	updated             time.Time
	sent                time.Time
	segments            int
	errorMessage        string
}

// apiMessage is Twilio's JSON for a message resource.
type apiMessage struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         *string           `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         *string           `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	SID                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

// nullable returns nil for the empty string, which Twilio shows as null.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toAPI renders m as Twilio does. s.mu must be held.
func (m *message) toAPI() apiMessage {
	uri := resourceURI(m.account, "Messages", m.SID)
	base := strings.TrimSuffix(uri, ".json")
	a := apiMessage{
		AccountSID:          m.account,
		APIVersion:          apiVersion,
		Body:                m.Body,
		DateCreated:         formatTime(m.Created),
		DateSent:            formatTime(m.sent),
		DateUpdated:         formatTime(m.updated),
		Direction:           m.Direction,
		ErrorMessage:        nullable(m.errorMessage),
		From:                nullable(m.From),
		MessagingServiceSID: nullable(m.messagingServiceSID),
		NumMedia:            "0",
		NumSegments:         strconv.Itoa(m.segments),
		PriceUnit:           "USD",
		SID:                 m.SID,
		Status:              m.Status,
		SubresourceURIs: map[string]string{
			"media":    base + "/Media.json",
			"feedback": base + "/Feedback.json",
		},
		To:  m.To,
		URI: uri,
	}
	if m.ErrorCode != 0 {
		code := m.ErrorCode
		a.ErrorCode = &code
	}
	return a
}

// createMessage serves POST Messages.json: Klaxon sends an SMS.
func (s *Simulator) createMessage(w http.ResponseWriter, r *http.Request) {
	if s.injectFailure(w) || !parseForm(w, r) {
		return
	}
	f := r.PostForm
	to := strings.TrimSpace(f.Get("To"))
	from := strings.TrimSpace(f.Get("From"))
	body := f.Get("Body")
	msid := strings.TrimSpace(f.Get("MessagingServiceSid"))
	hasContent := body != "" || len(f["MediaUrl"]) > 0 || f.Get("ContentSid") != ""
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case from == "" && msid == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case !hasContent:
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case utf8.RuneCountInString(body) > maxBodyChars:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the %d character limit.", maxBodyChars)
		return
	case to == magicInvalid || !phone.IsE164(to):
		writeError(w, http.StatusBadRequest, 21211, "The 'To' number %s is not a valid phone number.", to)
		return
	case from == magicInvalid || (from != "" && !validSender(from)):
		writeError(w, http.StatusBadRequest, 21212, "The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", from)
		return
	case from == magicNotOwned:
		writeError(w, http.StatusBadRequest, 21606, "The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", from)
		return
	case from == magicQueueFull:
		writeError(w, http.StatusBadRequest, 21611, "This 'From' number has exceeded the maximum number of queued messages")
		return
	case to == magicUnroutable:
		writeError(w, http.StatusBadRequest, 21612, "The 'To' phone number: %s, is not currently reachable using the 'From' phone number: %s via SMS.", to, from)
		return
	case to == magicNoIntl:
		writeError(w, http.StatusBadRequest, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: %s.", to)
		return
	case to == magicBlocked:
		writeError(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
		return
	case to == magicNotMobile:
		writeError(w, http.StatusBadRequest, 21614, "'To' number is not a valid mobile number")
		return
	}

	now := time.Now().UTC()
	m := &message{
		Message: Message{
			SID:       newID("SM"),
			From:      from,
			To:        to,
			Body:      body,
			Status:    "queued",
			Direction: directionOutboundAPI,
			Created:   now,
		},
		account:             accountOf(r),
		messagingServiceSID: msid,
		statusCallback:      f.Get("StatusCallback"),
		updated:             now,
		segments:            segments(body),
	}
	s.mu.Lock()
	if m.From == "" {
		// A messaging service picks the sender from its pool later.
		m.Status = "accepted"
		if len(s.numbers) > 0 {
			m.From = s.numbers[0].phone
		}
	}
	resp := m.toAPI()
	if msid != "" && from == "" {
		resp.From = nil
	}
	s.addMessageLocked(m)
	s.mu.Unlock()

	s.log.LogAttrs(r.Context(), slog.LevelInfo, "simulator message accepted",
		slog.String("sid", m.SID), slog.String("to", redact.Number(to)))
	writeJSON(w, http.StatusCreated, resp)
	s.goBackground(func(ctx context.Context) { s.deliver(ctx, m) })
}

// validSender reports whether from can send: an E.164 number, a short code
// or an alphanumeric sender ID.
func validSender(from string) bool {
	if phone.IsE164(from) {
		return true
	}
	if len(from) >= 3 && len(from) <= 6 && strings.Trim(from, "0123456789") == "" {
		return true // short code
	}
	if len(from) == 0 || len(from) > 11 {
		return false
	}
	letter := false
	for _, c := range from {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
			letter = true
		case c >= '0' && c <= '9', c == ' ', c == '-', c == '_', c == '.', c == '&', c == '+':
		default:
			return false
		}
	}
	return letter
}

// addMessageLocked records m. s.mu must be held.
func (s *Simulator) addMessageLocked(m *message) {
	s.messages = append(s.messages, m)
	s.msgBySID[m.SID] = m
	s.notifyLocked()
}

// deliver moves an outbound message through its statuses, posting each to
// its StatusCallback in order: "sent", then the recipient's final status.
// A message that fails outright ("failed") is never sent.
func (s *Simulator) deliver(ctx context.Context, m *message) {
	final := s.behaviour(m.To).SMSStatus
	if final != "failed" {
		s.setMessageStatus(ctx, m, "sent", 0, "")
	}
	switch final {
	case "undelivered":
		s.setMessageStatus(ctx, m, final, 30003, "Unreachable destination handset")
	case "failed":
		s.setMessageStatus(ctx, m, final, 30005, "Unknown destination handset")
	default:
		s.setMessageStatus(ctx, m, "delivered", 0, "")
	}
}

// setMessageStatus records a status and posts the status callback.
func (s *Simulator) setMessageStatus(ctx context.Context, m *message, status string, code int, errMsg string) {
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	now := time.Now().UTC()
	m.Status = status
	m.ErrorCode = code
	m.errorMessage = errMsg
	m.updated = now
	if status == "sent" {
		m.sent = now
	}
	params := url.Values{
		"MessageSid":    {m.SID},
		"SmsSid":        {m.SID},
		"MessageStatus": {status},
		"SmsStatus":     {status},
		"AccountSid":    {m.account},
		"From":          {m.From},
		"To":            {m.To},
		"ApiVersion":    {apiVersion},
	}
	if m.messagingServiceSID != "" {
		params.Set("MessagingServiceSid", m.messagingServiceSID)
	}
	if code != 0 {
		params.Set("ErrorCode", strconv.Itoa(code))
	}
	callbackURL := m.statusCallback
	s.notifyLocked()
	s.mu.Unlock()
	s.callback(ctx, callbackURL, http.MethodPost, params, "message")
}

// fetchMessage serves GET Messages/{Sid}.json.
func (s *Simulator) fetchMessage(w http.ResponseWriter, r *http.Request) {
	sid, ok := resourceSID(r)
	s.mu.Lock()
	m := s.msgBySID[sid]
	var a apiMessage
	if m != nil {
		a = m.toAPI()
	}
	s.mu.Unlock()
	if !ok || m == nil || m.account != accountOf(r) {
		writeNotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// listMessages serves GET Messages.json, filtered by To and From.
func (s *Simulator) listMessages(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	to, from := r.Form.Get("To"), r.Form.Get("From")
	out := []apiMessage{}
	s.mu.Lock()
	// Twilio lists the newest first.
	for i := len(s.messages) - 1; i >= 0; i-- {
		m := s.messages[i]
		if m.account != accountOf(r) || (to != "" && m.To != to) || (from != "" && m.From != from) {
			continue
		}
		out = append(out, m.toAPI())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		listPage
		Messages []apiMessage `json:"messages"`
	}{newListPage(r, len(out)), out})
}

// gsm7 is the GSM 03.38 basic character set; gsm7Ext holds the characters
// that take an escape septet as well.
const (
	gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "\f^{}\\[~]|€"
)

// segments returns how many SMS segments body takes: 160 GSM-7 septets or
// 70 UCS-2 units in one, 153 or 67 per part once concatenated.
func segments(body string) int {
	septets, gsm := 0, true
	for _, c := range body {
		switch {
		case strings.ContainsRune(gsm7, c):
			septets++
		case strings.ContainsRune(gsm7Ext, c):
			septets += 2
		default:
			gsm = false
		}
	}
	single, part, n := 160, 153, septets
	if !gsm {
		single, part, n = 70, 67, len(utf16.Encode([]rune(body)))
	}
	switch {
	case n == 0:
		return 1
	case n <= single:
		return 1
	default:
		return (n + part - 1) / part
	}
}
