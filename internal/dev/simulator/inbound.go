package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
)

// ErrNoWebhook is returned by SendSMS when the texted number has no SmsUrl
// and Config.InboundURL is empty.
var ErrNoWebhook = errors.New("no sms webhook for the number")

// SendSMS has the phone `from` text body to Klaxon's number `to`. It posts
// the signed inbound-SMS webhook Twilio would send to the number's SmsUrl
// (or Config.InboundURL), records the message, and records every <Message>
// of a TwiML answer as a reply that Twilio would send. It returns the new
// MessageSid, and an error when the webhook cannot be reached or answers
// other than 2xx (the message is recorded all the same).
func (s *Simulator) SendSMS(ctx context.Context, from, to, body string) (string, error) {
	if !phone.IsE164(from) {
		return "", errors.New("send sms: the sender is not an E.164 phone number")
	}
	if !phone.IsE164(to) {
		return "", errors.New("send sms: the recipient is not an E.164 phone number")
	}
	if len([]rune(body)) > maxBodyChars {
		return "", fmt.Errorf("send sms: the body is longer than %d characters", maxBodyChars)
	}
	target, method := s.smsWebhook(to)
	if target == "" {
		return "", fmt.Errorf("send sms: %w", ErrNoWebhook)
	}
	now := time.Now().UTC()
	m := &message{
		Message: Message{
			SID:       newID("SM"),
			From:      from,
			To:        to,
			Body:      body,
			Status:    "received",
			Direction: directionInbound,
			Created:   now,
		},
		account:  s.cfg.AccountSID,
		updated:  now,
		sent:     now,
		segments: segments(body),
	}
	s.mu.Lock()
	s.addMessageLocked(m)
	s.mu.Unlock()

	params := url.Values{
		"MessageSid":    {m.SID},
		"SmsSid":        {m.SID},
		"SmsMessageSid": {m.SID},
		"AccountSid":    {m.account},
		"From":          {from},
		"To":            {to},
		"Body":          {body},
		"NumMedia":      {"0"},
		"NumSegments":   {strconv.Itoa(m.segments)},
		"SmsStatus":     {"received"},
		"ApiVersion":    {apiVersion},
		"FromCountry":   {country(from)},
		"ToCountry":     {country(to)},
		"FromState":     {""},
		"FromCity":      {""},
		"FromZip":       {""},
		"ToState":       {""},
		"ToCity":        {""},
		"ToZip":         {""},
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "simulator sms to klaxon",
		slog.String("sid", m.SID), slog.String("from", redact.Number(from)), slog.String("to", redact.Number(to)))
	answer, err := s.webhook(ctx, target, method, params)
	if err != nil {
		return m.SID, fmt.Errorf("send sms: %w", err)
	}
	s.replies(ctx, answer, target, m)
	return m.SID, nil
}

// country returns the ISO country of an E.164 number, or "".
func country(number string) string {
	n, err := phonenumbers.Parse(number, "")
	if err != nil {
		return ""
	}
	if r := phonenumbers.GetRegionCodeForNumber(n); r != "" && r != "ZZ" {
		return r
	}
	if r := phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode())); r != "ZZ" {
		return r
	}
	return ""
}

// replies records each <Message> of a messaging TwiML answer to in as a
// text Twilio sends, and delivers it. An answer that is not TwiML (or is
// empty) sends nothing.
func (s *Simulator) replies(ctx context.Context, answer []byte, docURL string, in *message) {
	if strings.TrimSpace(string(answer)) == "" {
		return
	}
	doc, err := parseTwiML(answer)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "simulator sms webhook answer is not twiml",
			slog.String("sid", in.SID), slog.Any("error", err))
		return
	}
	for _, verb := range doc.elements() {
		if verb.name != "Message" {
			continue
		}
		to, from := in.From, in.To
		if v := verb.attrs["to"]; v != "" {
			to = v
		}
		if v := verb.attrs["from"]; v != "" {
			from = v
		}
		callback := verb.attrs["statusCallback"]
		if callback == "" {
			callback = verb.attrs["action"]
		}
		if callback != "" {
			if callback, err = resolve(docURL, callback); err != nil {
				callback = ""
			}
		}
		body := messageBody(verb)
		if body == "" {
			continue // Twilio refuses an empty reply
		}
		now := time.Now().UTC()
		m := &message{
			Message: Message{
				SID:       newID("SM"),
				From:      from,
				To:        to,
				Body:      body,
				Status:    "queued",
				Direction: directionOutboundReply,
				Created:   now,
			},
			account:        in.account,
			statusCallback: callback,
			updated:        now,
			segments:       segments(body),
		}
		s.mu.Lock()
		s.addMessageLocked(m)
		s.mu.Unlock()
		s.goBackground(func(ctx context.Context) { s.deliver(ctx, m) })
	}
}

// messageBody returns the text of a TwiML <Message>: its <Body> elements,
// or else its own text, trimmed but with its line breaks kept.
func messageBody(n *node) string {
	var b strings.Builder
	found := false
	for _, c := range n.children {
		if c.name == "Body" {
			found = true
			for _, t := range c.children {
				b.WriteString(t.text)
			}
		}
	}
	if !found {
		for _, c := range n.children {
			b.WriteString(c.text) // text nodes; elements have none
		}
	}
	return strings.TrimSpace(b.String())
}
