package gateway

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"go.temporal.io/api/serviceerror"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// How long the channel and number APIs wait for their workflow's answer:
// well inside the server's WriteTimeout (30 s), so that an answer is never
// cut. A request still running then is answered 202 with where to poll.
const (
	channelCreateWait = 20 * time.Second
	provisionWait     = 20 * time.Second
	// pollWait bounds how long a poll of a request waits for its answer.
	pollWait = 10 * time.Second
)

// requestIDPattern is what a client-chosen request id may look like.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,100}$`)

// areaCodePattern is an area code for provisioning.
var areaCodePattern = regexp.MustCompile(`^[0-9]{2,5}$`)

// createChannel runs the same ChannelCreate workflow as a CHANNEL text and
// answers with the channel's number: 201 {"phone"}. The workflow id comes
// from the request id, so a retried request gets the same channel.
func (g *Gateway) createChannel(w http.ResponseWriter, r *http.Request) {
	var req api.CreateChannelRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	in, err := g.validateChannelRequest(r, req)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), channelCreateWait)
	defer cancel()
	// The workflow is handed the admins by reference (the claim check):
	// their numbers stay in Postgres.
	if in.AdminsRef, err = g.Store.PutClaim(ctx, store.ClaimNumbers, strings.Join(in.Admins, ",")); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	in.Admins = nil
	res, err := g.start.CreateChannel(ctx, in)
	if err != nil {
		if ctx.Err() != nil && r.Context().Err() == nil {
			writeAccepted(w, "/api/v1/channels/requests/"+strings.TrimPrefix(in.RequestID, workflows.ChannelCreateWorkflowID("")), in.RequestID)
			return
		}
		g.Logger.ErrorContext(r.Context(), "channel create", "request", in.RequestID, "error", err)
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable,
			"The channel request %s could not be completed in time; send it again with the same request id to get its answer.", in.RequestID))
		return
	}
	g.writeChannelResult(w, r, in.RequestID, res)
}

// writeAccepted answers a long request that is still running: 202, with
// the resource to poll for its answer in Location.
func writeAccepted(w http.ResponseWriter, location, requestID string) {
	w.Header().Set("Location", location)
	writeJSON(w, http.StatusAccepted, api.Pending{RequestID: requestID, Status: "pending", Location: location,
		Message: "Still working on it: GET " + location + " (or send the same request again with the same request id) for the answer."})
}

// channelRequest is GET /api/v1/channels/requests/{id}: a channel
// request's answer once it is known, 202 while it is not.
func (g *Gateway) channelRequest(w http.ResponseWriter, r *http.Request) {
	rid := mux.Vars(r)["id"]
	if !requestIDPattern.MatchString(rid) {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.ENotFound, "No channel request %q.", truncate(rid, 100)))
		return
	}
	id := workflows.ChannelCreateWorkflowID(rid)
	ctx, cancel := context.WithTimeout(r.Context(), pollWait)
	defer cancel()
	var res workflows.ChannelCreateResult
	v, err := g.Temporal.QueryWorkflow(ctx, id, "", workflows.QueryState)
	if err == nil {
		err = v.Get(&res)
	}
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.ENotFound, "No channel request %q.", rid))
	case err != nil:
		g.Logger.ErrorContext(r.Context(), "poll channel request", "request", id, "error", err)
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable, "The channel request %s could not be looked up; try again.", rid))
	case res.Outcome == "":
		writeAccepted(w, r.URL.Path, id)
	default:
		g.writeChannelResult(w, r, id, res)
	}
}

// writeChannelResult answers a channel request's outcome.
func (g *Gateway) writeChannelResult(w http.ResponseWriter, r *http.Request, rid string, res workflows.ChannelCreateResult) {
	switch res.Outcome {
	case workflows.OutcomeCreated:
		writeJSON(w, http.StatusCreated, api.ChannelCreated{Phone: res.Phone, ID: res.ChannelID, RequestID: rid})
	case workflows.OutcomeRefused:
		code := klaxon.EInvalid
		if res.Conflict {
			code = klaxon.EConflict
		}
		writeError(w, r, g.Logger, &klaxon.Error{Code: code, Message: res.Message})
	default: // no numbers, or failed
		writeError(w, r, g.Logger, &klaxon.Error{Code: klaxon.EUnavailable, Message: res.Message})
	}
}

// requestID is a request's idempotency key: the Idempotency-Key header,
// else the body's request_id, else a new id with prefix.
func requestID(r *http.Request, fromBody, prefix string) (string, error) {
	rid := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if rid == "" {
		rid = strings.TrimSpace(fromBody)
	}
	if rid == "" {
		rid = NewID(prefix)
	}
	if !requestIDPattern.MatchString(rid) {
		return "", klaxon.Errorf(klaxon.EInvalid, "The request id must be 1 to 100 letters, digits, '_', '.', ':' or '-'.")
	}
	return rid, nil
}

// validateChannelRequest checks and normalises a channel request.
func (g *Gateway) validateChannelRequest(r *http.Request, req api.CreateChannelRequest) (workflows.ChannelCreateInput, error) {
	var in workflows.ChannelCreateInput
	rid, err := requestID(r, req.RequestID, "chreq")
	if err != nil {
		return in, err
	}
	in.RequestID = workflows.ChannelCreateWorkflowID(rid)
	if len(req.Admins) == 0 {
		return in, klaxon.Errorf(klaxon.EInvalid, `Field "admins" must list at least one admin phone number.`)
	}
	seen := map[string]bool{}
	for _, a := range req.Admins {
		n, err := g.apiNumber(a)
		if err != nil {
			return in, err
		}
		if !seen[n] {
			seen[n] = true
			in.Admins = append(in.Admins, n)
		}
	}
	if len(in.Admins) > channel.MaxAdmins {
		return in, klaxon.Errorf(klaxon.EInvalid, "A channel can have at most %d admins; the request lists %d.", channel.MaxAdmins, len(in.Admins))
	}
	if strings.TrimSpace(req.Phone) != "" {
		n, err := g.apiNumber(req.Phone)
		if err != nil {
			return in, err
		}
		in.Phone = n
		if err := g.notSystemNumber(n); err != nil {
			return in, err
		}
		if seen[n] {
			return in, klaxon.Errorf(klaxon.EInvalid, "%s cannot be both the channel's number and one of its admins.", n)
		}
	}
	return in, nil
}

// notSystemNumber refuses one of Klaxon's own numbers (paging, signup,
// diagnostics) as a channel's number or a pool number.
func (g *Gateway) notSystemNumber(n string) error {
	for _, sys := range []struct{ number, name, env string }{
		{g.Config.FromNumber, "paging", "KLAXON_FROM_NUMBER"},
		{g.Config.SignupNumber, "signup", "KLAXON_SIGNUP_NUMBER"},
		{g.Config.DiagnosticsNumber, "diagnostics", "KLAXON_DIAGNOSTICS_NUMBER"},
	} {
		if sys.number != "" && n == sys.number {
			return klaxon.Errorf(klaxon.EConflict, "%s is Klaxon's own %s number (%s); it cannot be a channel's.", n, sys.name, sys.env)
		}
	}
	return nil
}

// apiNumber reads a number given to the API: with a '+' as the SMS grammar
// reads it, without one in the default region.
func (g *Gateway) apiNumber(raw string) (string, error) {
	if strings.HasPrefix(strings.TrimSpace(raw), "+") {
		return channel.Number(raw)
	}
	return phone.Normalize(raw, g.Config.DefaultRegion)
}

// listChannels is GET /api/v1/channels.
func (g *Gateway) listChannels(w http.ResponseWriter, r *http.Request) {
	cs, err := g.Store.ListChannels(r.Context())
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	out := api.ChannelList{Channels: make([]api.Channel, 0, len(cs))}
	for _, c := range cs {
		out.Channels = append(out.Channels, channelOf(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// getChannel is GET /api/v1/channels/{phone}: counts and the latest
// broadcasts' progress.
func (g *Gateway) getChannel(w http.ResponseWriter, r *http.Request) {
	ch, err := g.channelFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	bs, err := g.Store.Broadcasts(r.Context(), ch.ID, 10)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	v := api.ChannelDetail{Channel: channelOf(ch), Broadcasts: make([]api.Broadcast, 0, len(bs))}
	for _, b := range bs {
		v.Broadcasts = append(v.Broadcasts, broadcastOf(b))
	}
	writeJSON(w, http.StatusOK, v)
}

// deleteChannel is DELETE /api/v1/channels/{phone}.
func (g *Gateway) deleteChannel(w http.ResponseWriter, r *http.Request) {
	ch, err := g.channelFromPath(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if ch.Kind != store.KindRegular {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EConflict, "The %s channel is a system channel; change its number in the configuration instead.", ch.Kind))
		return
	}
	if err := g.Store.DeleteChannel(r.Context(), ch.Phone); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (g *Gateway) channelFromPath(r *http.Request) (store.Channel, error) {
	raw := mux.Vars(r)["phone"]
	n, err := g.apiNumber(raw)
	if err != nil {
		return store.Channel{}, err
	}
	ch, err := g.Store.ChannelByPhone(r.Context(), n)
	if errors.Is(err, klaxon.ErrNotFound) || (err == nil && ch.DeletedAt != nil) {
		return ch, klaxon.Errorf(klaxon.ENotFound, "No channel has the number %s.", n)
	}
	return ch, err
}

// viewNumber is a pool number with its state in words.
func viewNumber(n store.Number) api.Number {
	state := n.Status
	if state == store.NumberInUse {
		state = "in use"
	}
	return api.Number{ID: n.ID, Phone: n.Phone, Status: n.Status, Source: n.Source, Error: n.Error,
		ChannelID: n.ChannelID, CreatedAt: n.CreatedAt, State: state}
}

// addNumber is POST /api/v1/numbers {"phone"}: a number the maintainers
// own, its SMS webhook already pointing at KLAXON_PUBLIC_URL/twilio/sms,
// joins the pool ready for a channel.
func (g *Gateway) addNumber(w http.ResponseWriter, r *http.Request) {
	var req api.AddNumberRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if strings.TrimSpace(req.Phone) == "" {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, `Field "phone" is required.`))
		return
	}
	n, err := g.apiNumber(req.Phone)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if err := g.notSystemNumber(n); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	num, err := g.Store.AddNumber(r.Context(), n)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, viewNumber(num))
}

// listNumbers is GET /api/v1/numbers.
func (g *Gateway) listNumbers(w http.ResponseWriter, r *http.Request) {
	ns, err := g.Store.ListNumbers(r.Context())
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	out := make([]api.Number, 0, len(ns))
	for _, n := range ns {
		out = append(out, viewNumber(n))
	}
	avail, active, err := g.Store.PoolCounts(r.Context())
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, api.NumberList{Numbers: out, Available: avail, ActiveChannels: active, ReserveSize: g.Config.ReserveSize})
}

// provisionNumbers is POST /api/v1/numbers/provision {"count","area_code"?}:
// buys numbers through the provider and adds them to the pool.
func (g *Gateway) provisionNumbers(w http.ResponseWriter, r *http.Request) {
	var req api.ProvisionRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if req.Count < 1 || req.Count > workflows.MaxProvision {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, `Field "count" must be a number from 1 to %d.`, workflows.MaxProvision))
		return
	}
	req.AreaCode = strings.TrimSpace(req.AreaCode)
	if req.AreaCode != "" && !areaCodePattern.MatchString(req.AreaCode) {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EInvalid, `Field "area_code" must be 2 to 5 digits, such as "415".`))
		return
	}
	rid, err := requestID(r, req.RequestID, "prov")
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	id := workflows.ProvisionWorkflowID(rid)
	ctx, cancel := context.WithTimeout(r.Context(), provisionWait)
	defer cancel()
	res, err := g.start.ProvisionNumbers(ctx, workflows.ProvisionInput{RequestID: id, Count: req.Count, AreaCode: req.AreaCode})
	if err != nil && ctx.Err() != nil && r.Context().Err() == nil {
		writeAccepted(w, "/api/v1/numbers/provision/"+rid, id)
		return
	}
	g.writeProvisionResult(w, r, id, res, err)
}

// provisionRequest is GET /api/v1/numbers/provision/{id}: a provisioning
// request's answer once it has finished, 202 while it runs.
func (g *Gateway) provisionRequest(w http.ResponseWriter, r *http.Request) {
	rid := mux.Vars(r)["id"]
	if !requestIDPattern.MatchString(rid) {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.ENotFound, "No provisioning request %q.", truncate(rid, 100)))
		return
	}
	id := workflows.ProvisionWorkflowID(rid)
	ctx, cancel := context.WithTimeout(r.Context(), pollWait)
	defer cancel()
	var res workflows.ProvisionResult
	err := g.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &res)
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.ENotFound, "No provisioning request %q.", rid))
	case err != nil && ctx.Err() != nil && r.Context().Err() == nil:
		writeAccepted(w, r.URL.Path, id)
	default:
		g.writeProvisionResult(w, r, id, res, err)
	}
}

// writeProvisionResult answers a provisioning request's outcome.
func (g *Gateway) writeProvisionResult(w http.ResponseWriter, r *http.Request, id string, res workflows.ProvisionResult, err error) {
	if err != nil {
		g.Logger.ErrorContext(r.Context(), "provision numbers", "request", id, "error", err)
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable, "Provisioning did not finish in time; send the request again with the same request id to get its answer."))
		return
	}
	if len(res.Bought) == 0 && len(res.Failed) > 0 {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable, "No number could be provisioned: %s.", strings.TrimSuffix(res.Failed[0].Reason, ".")))
		return
	}
	writeJSON(w, http.StatusCreated, provisionOf(res))
}
