package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/workflows"
)

// createMessage queues one message through the delivery pipeline: 202 with
// its id as soon as the record exists and its workflow has started.
func (g *Gateway) createMessage(w http.ResponseWriter, r *http.Request) {
	var req api.CreateMessageRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	m, err := g.validateMessage(req)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	m.Purpose = "api"
	if m, err = g.queueMessage(r.Context(), m); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, api.MessageCreated{ID: m.ID, Status: klaxon.StatusQueued, WorkflowID: workflows.MessageWorkflowID(m.ID)})
}

// validateMessage checks a message request and normalises its address.
func (g *Gateway) validateMessage(req api.CreateMessageRequest) (klaxon.Message, error) {
	m := klaxon.Message{Medium: klaxon.Medium(strings.ToLower(strings.TrimSpace(req.Channel))), Body: req.Body, Subject: strings.TrimSpace(req.Subject)}
	if !m.Medium.Valid() {
		if req.Channel == "" {
			return m, klaxon.Errorf(klaxon.EInvalid, `Field "channel" is required: %s.`, mediaList())
		}
		return m, klaxon.Errorf(klaxon.EInvalid, `Unknown channel %q: use %s.`, truncate(req.Channel, 20), mediaList())
	}
	if strings.TrimSpace(m.Body) == "" {
		return m, klaxon.Errorf(klaxon.EInvalid, `Field "body" is required and must not be blank.`)
	}
	if n := utf8.RuneCountInString(m.Body); n > klaxon.MaxBodyLen {
		return m, klaxon.Errorf(klaxon.EInvalid, "The body is %d characters long; the limit is %d.", n, klaxon.MaxBodyLen)
	}
	if !utf8.ValidString(m.Body) {
		return m, klaxon.Errorf(klaxon.EInvalid, "The body must be valid UTF-8 text.")
	}
	if utf8.RuneCountInString(m.Subject) > 200 {
		return m, klaxon.Errorf(klaxon.EInvalid, "The subject is longer than 200 characters.")
	}
	to := strings.TrimSpace(req.To)
	if to == "" {
		return m, klaxon.Errorf(klaxon.EInvalid, `Field "to" is required.`)
	}
	if network := m.Medium.ChatNetwork(); network != "" {
		var err error
		m.To, err = chatAddress(network, to)
		return m, err
	}
	if m.Medium.IsPhone() {
		n, err := phone.Normalize(to, g.Config.DefaultRegion)
		if err != nil {
			return m, err
		}
		m.To = n
	} else {
		addr, err := mail.ParseAddress(to)
		if err != nil || !strings.Contains(addr.Address, "@") {
			return m, klaxon.Errorf(klaxon.EInvalid, "'%s' is not a valid email address.", truncate(to, 40))
		}
		m.To = addr.Address
	}
	return m, nil
}

func (g *Gateway) getMessage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	m, attempts, events, err := g.Store.GetMessage(r.Context(), id)
	if err != nil {
		if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
			err = klaxon.Errorf(klaxon.ENotFound, "No message with id %q.", truncate(id, 40))
		}
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, messageOf(m, attempts, events))
}

// NewID returns a random, URL-safe id with a prefix naming its kind.
func NewID(prefix string) string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// queueMessage records a normal-priority message and starts its delivery.
func (g *Gateway) queueMessage(ctx context.Context, m klaxon.Message) (klaxon.Message, error) {
	m.ID = NewID("msg")
	m.Priority = klaxon.Normal
	if m.From == "" && m.Medium.IsPhone() {
		m.From = g.Config.FromNumber // stored with the number it goes from
	}
	return m, g.start.QueueMessage(ctx, g.Store, m)
}
