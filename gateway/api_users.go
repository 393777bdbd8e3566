package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"github.com/nyaruka/phonenumbers"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/code"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// handlePattern is the users.handle CHECK constraint of the schema.
var handlePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// errBadCode is every refusal of a verification code — wrong, expired, out
// of tries, or for a contact that does not exist — so that the answer never
// tells whether a contact method exists.
var errBadCode = klaxon.Errorf(klaxon.EUnprocessable, "That code is not valid.")

// updateTimeout bounds how long an API call waits for a workflow to answer
// an update (a worker must be running); startTimeout, for Temporal to
// start one.
const (
	updateTimeout = 10 * time.Second
	startTimeout  = 10 * time.Second
)

// Throttles of verification codes. Limits per contact make resends and
// restarts slow; per address they stop one number being flooded through
// many users; the overall one caps what a leaked API token can spend.
func verifyLimits() []store.Limit {
	return []store.Limit{
		{Scope: store.LimitContact, Window: time.Minute, Max: 1,
			Message: "A new code can be sent 60 seconds after the last one."},
		{Scope: store.LimitContact, Window: time.Hour, Max: 5,
			Message: "Too many codes were sent to this contact method in the last hour; try again later."},
		{Scope: store.LimitAddress, Window: time.Hour, Max: 10,
			Message: "Too many codes were sent to this number or address in the last hour; try again later."},
		{Scope: store.LimitAll, Purpose: store.PurposeVerify, Window: time.Minute, Max: 100,
			Message: "Klaxon is sending too many verification codes right now; try again in a minute."},
	}
}

// validateUser checks a new user: a handle as the schema allows it, a
// name, an IANA timezone (UTC when empty), and a nick and Matrix id when
// given.
func validateUser(req api.UserRequest) (store.User, error) {
	u := store.User{Handle: strings.TrimSpace(req.Handle), Name: strings.TrimSpace(req.Name), Timezone: strings.TrimSpace(req.Timezone),
		Nick: strings.TrimSpace(req.Nick), MatrixID: strings.TrimSpace(req.MatrixID), IRCAccount: strings.TrimSpace(req.IRCAccount)}
	if u.Handle == "" {
		return u, klaxon.Errorf(klaxon.EInvalid, `Field "handle" is required.`)
	}
	if !handlePattern.MatchString(u.Handle) {
		if lower := strings.ToLower(u.Handle); handlePattern.MatchString(lower) {
			return u, klaxon.Errorf(klaxon.EInvalid, "Handles are lowercase: use %q.", lower)
		}
		return u, klaxon.Errorf(klaxon.EInvalid, "%q is not a valid handle: use 1 to 32 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit.", truncate(u.Handle, 40))
	}
	if err := validateName(u.Name); err != nil {
		return u, err
	}
	if u.Timezone == "" {
		u.Timezone = "UTC"
	}
	if err := validateTimezone(u.Timezone); err != nil {
		return u, err
	}
	if u.Nick == "" {
		u.Nick = u.Handle
	}
	if err := validateNick(u.Nick); err != nil {
		return u, err
	}
	if err := validateMatrixID(u.MatrixID); err != nil {
		return u, err
	}
	if err := validateIRCAccount(u.IRCAccount); err != nil {
		return u, err
	}
	return u, nil
}

func validateName(name string) error {
	if name == "" {
		return klaxon.Errorf(klaxon.EInvalid, `Field "name" is required.`)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return klaxon.Errorf(klaxon.EInvalid, "The name must be plain text on one line.")
	}
	if n := utf8.RuneCountInString(name); n > 200 {
		return klaxon.Errorf(klaxon.EInvalid, "The name is %d characters long; the limit is 200.", n)
	}
	return nil
}

func validateTimezone(tz string) error {
	if len(tz) > 64 || tz == "Local" {
		return klaxon.Errorf(klaxon.EInvalid, "%q is not a timezone: use an IANA name such as Europe/Berlin or America/New_York.", truncate(tz, 40))
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return klaxon.Errorf(klaxon.EInvalid, "%q is not a timezone: use an IANA name such as Europe/Berlin or America/New_York.", truncate(tz, 40))
	}
	return nil
}

// nickPattern is what Klaxon accepts as a chat nick: what IRC servers
// allow (RFC 2812 letters, digits and "[]\`_^{|}-", not starting with a
// digit or '-'), plus '.', which handles use and many servers allow.
var nickPattern = regexp.MustCompile("^[A-Za-z\\[\\]\\\\`_^{|}][A-Za-z0-9\\[\\]\\\\`_^{|}.-]{0,31}$")

func validateNick(nick string) error {
	if !nickPattern.MatchString(nick) {
		return klaxon.Errorf(klaxon.EInvalid, "%q is not a valid nick: use up to 32 letters, digits or []\\`_^{|}.- starting with a letter (give one with \"nick\" when the handle starts with a digit).", truncate(nick, 40))
	}
	return nil
}

// matrixIDPattern is a Matrix user id: @localpart:server.
var matrixIDPattern = regexp.MustCompile(`^@[a-z0-9._=/+-]{1,200}:[A-Za-z0-9.:\[\]-]{1,230}$`)

func validateMatrixID(id string) error {
	if id != "" && !matrixIDPattern.MatchString(id) {
		return klaxon.Errorf(klaxon.EInvalid, "%q is not a Matrix user id: write it as @name:server.example.", truncate(id, 60))
	}
	return nil
}

func validateIRCAccount(account string) error {
	if account != "" && (len(account) > 64 || strings.ContainsFunc(account, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })) {
		return klaxon.Errorf(klaxon.EInvalid, "%q is not an IRC account name.", truncate(account, 40))
	}
	return nil
}

// validatePatch checks a change to a user, field by field.
func validatePatch(req api.UserPatch) (store.UserPatch, error) {
	p := store.UserPatch{Active: req.Active}
	trim := func(s *string) *string {
		if s == nil {
			return nil
		}
		t := strings.TrimSpace(*s)
		return &t
	}
	p.Name, p.Timezone, p.Nick, p.MatrixID, p.IRCAccount = trim(req.Name), trim(req.Timezone), trim(req.Nick), trim(req.MatrixID), trim(req.IRCAccount)
	if p.Name != nil {
		if err := validateName(*p.Name); err != nil {
			return p, err
		}
	}
	if p.Timezone != nil {
		if err := validateTimezone(*p.Timezone); err != nil {
			return p, err
		}
	}
	if p.Nick != nil {
		if err := validateNick(*p.Nick); err != nil {
			return p, err
		}
	}
	if p.MatrixID != nil {
		if err := validateMatrixID(*p.MatrixID); err != nil {
			return p, err
		}
	}
	if p.IRCAccount != nil {
		if err := validateIRCAccount(*p.IRCAccount); err != nil {
			return p, err
		}
	}
	if p == (store.UserPatch{}) {
		return p, klaxon.Errorf(klaxon.EInvalid, "Nothing to change: give one of name, timezone, nick, matrix_id, irc_account or active.")
	}
	return p, nil
}

// patchUser is PATCH /api/v1/users/{handle}: 200 with the user as changed.
func (g *Gateway) patchUser(w http.ResponseWriter, r *http.Request) {
	var req api.UserPatch
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	p, err := validatePatch(req)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	handle := mux.Vars(r)["handle"]
	u, err := g.userByHandle(r.Context(), handle)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if u.Source == store.SourceLDAP && p.Active != nil {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnprocessable,
			"%s comes from the directory (%s): they are deactivated when their entry leaves it and reactivated when it returns.", u.Handle, u.LDAPDN))
		return
	}
	if _, err := g.Store.UpdateUser(r.Context(), handle, p); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	v, err := g.userView(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// createUser is POST /api/v1/users: 201 with the user.
func (g *Gateway) createUser(w http.ResponseWriter, r *http.Request) {
	var req api.UserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	u, err := validateUser(req)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	u, err = g.Store.CreateUser(r.Context(), u)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.UserDetail{User: userOf(u), Contacts: []api.Contact{}})
}

// listUsers is GET /api/v1/users.
func (g *Gateway) listUsers(w http.ResponseWriter, r *http.Request) {
	users, err := g.Store.ListUsers(r.Context())
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	out := api.UserList{Users: make([]api.User, 0, len(users))}
	for _, u := range users {
		out.Users = append(out.Users, userOf(u))
	}
	writeJSON(w, http.StatusOK, out)
}

// newVerificationView shows a verification without its code; none when the
// contact has had none.
func newVerificationView(ch store.Challenge) *api.Verification {
	if ch.ID == "" {
		return nil
	}
	return &api.Verification{ID: ch.ID, Status: ch.Status, Sends: ch.Sends,
		AttemptsLeft: max(ch.MaxAttempts-ch.Attempts, 0), ExpiresAt: ch.ExpiresAt}
}

// contactViews returns a user's contact methods with their verifications.
func (g *Gateway) contactViews(ctx context.Context, userID int64) ([]api.Contact, error) {
	cs, err := g.Store.Contacts(ctx, userID, false)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(cs))
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	chs, err := g.Store.LatestChallenges(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]api.Contact, 0, len(cs))
	for _, c := range cs {
		out = append(out, contactOf(c, chs[c.ID]))
	}
	return out, nil
}

// userByHandle looks a user up for a route, with a clear 404.
func (g *Gateway) userByHandle(ctx context.Context, handle string) (store.User, error) {
	u, err := g.Store.UserByHandle(ctx, handle)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return u, klaxon.Errorf(klaxon.ENotFound, "No user with handle %q.", truncate(handle, 40))
	}
	return u, err
}

// getUser is GET /api/v1/users/{handle}: the user and their contacts.
func (g *Gateway) getUser(w http.ResponseWriter, r *http.Request) {
	v, err := g.userView(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// listContacts is GET /api/v1/users/{handle}/contacts.
func (g *Gateway) listContacts(w http.ResponseWriter, r *http.Request) {
	v, err := g.userView(r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ContactList{Contacts: v.Contacts})
}

// userView loads the user the route names, with their contacts.
func (g *Gateway) userView(r *http.Request) (api.UserDetail, error) {
	u, err := g.userByHandle(r.Context(), mux.Vars(r)["handle"])
	if err != nil {
		return api.UserDetail{}, err
	}
	cs, err := g.contactViews(r.Context(), u.ID)
	if err != nil {
		return api.UserDetail{}, err
	}
	return api.UserDetail{User: userOf(u), Contacts: cs}, nil
}

// mediaList names the contact types for an error message: "sms", "voice",
// "email", "irc" or "matrix".
func mediaList() string {
	media := klaxon.Media()
	names := make([]string, len(media))
	for i, m := range media {
		names[i] = strconv.Quote(string(m))
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// chatAddress normalises whom addr names on a chat network (an IRC nick,
// a Matrix id), or says what is wrong with it as an EInvalid sentence.
func chatAddress(network, addr string) (string, error) {
	a, problem := chat.Address(network, addr)
	if problem != "" {
		return "", klaxon.Errorf(klaxon.EInvalid, "'%s' %s", truncate(addr, 40), problem)
	}
	return a, nil
}

// validateContact checks a contact method: its type, and its address as a
// phone number in E.164 (numbers without a country code take the default
// region; premium-rate numbers are refused) or an email address.
func validateContact(req api.ContactRequest, region string) (store.Contact, error) {
	c := store.Contact{Type: klaxon.Medium(strings.ToLower(strings.TrimSpace(req.Type)))}
	if !c.Type.Valid() {
		if strings.TrimSpace(req.Type) == "" {
			return c, klaxon.Errorf(klaxon.EInvalid, `Field "type" is required: %s.`, mediaList())
		}
		return c, klaxon.Errorf(klaxon.EInvalid, `Unknown type %q: use %s.`, truncate(req.Type, 20), mediaList())
	}
	addr := strings.TrimSpace(req.Address)
	if addr == "" {
		return c, klaxon.Errorf(klaxon.EInvalid, `Field "address" is required.`)
	}
	if strings.ContainsFunc(addr, unicode.IsControl) {
		return c, klaxon.Errorf(klaxon.EInvalid, "The address must be plain text on one line.")
	}
	if network := c.Type.ChatNetwork(); network != "" {
		var err error
		c.Address, err = chatAddress(network, addr)
		return c, err
	}
	if !c.Type.IsPhone() {
		a, err := mail.ParseAddress(addr)
		if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") || len(a.Address) > 254 {
			return c, klaxon.Errorf(klaxon.EInvalid, "'%s' is not a valid email address.", truncate(addr, 40))
		}
		c.Address = a.Address
		return c, nil
	}
	n, err := phone.Normalize(addr, region)
	if err != nil {
		return c, err
	}
	if err := refuseCostlyNumber(n); err != nil {
		return c, err
	}
	c.Address = n
	return c, nil
}

// refuseCostlyNumber refuses premium-rate and shared-cost numbers: texting
// or calling them costs money that goes to whoever owns them, the heart of
// SMS-pumping fraud.
func refuseCostlyNumber(e164 string) error {
	num, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return nil
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST:
		return klaxon.Errorf(klaxon.EInvalid, "'%s' is a premium-rate number; Klaxon does not text or call those.", e164)
	}
	return nil
}

// addContact is POST /api/v1/users/{handle}/contacts: the contact method,
// pending, and its verification started (a code sent by its own medium);
// 201 {"id","status":"pending",...}. The same method again answers 200
// with its current state and sends nothing new; a verified one answers
// {"status":"verified"}.
func (g *Gateway) addContact(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, err := g.userByHandle(ctx, mux.Vars(r)["handle"])
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	var req api.ContactRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	c, err := validateContact(req, g.Config.DefaultRegion)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	c.UserID = u.ID
	v, err := g.startVerification(ctx, c)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	status := http.StatusOK
	if v.New {
		status = http.StatusCreated
	}
	writeJSON(w, status, contactOf(v.Contact, v.Challenge))
}

// startVerification creates (or finds) a contact method's verification and
// makes sure its workflow runs. A verification whose workflow has ended
// without closing it (a maintainer terminated it) is canceled and replaced.
func (g *Gateway) startVerification(ctx context.Context, c store.Contact) (store.VerificationStart, error) {
	newID := func(contactID int64) string { return workflows.VerifyWorkflowID(contactID, randomToken()) }
	for range 2 {
		v, err := g.Store.StartVerification(ctx, c, newID, workflows.DefaultMaxAttempts, verifyLimits())
		if err != nil || v.Challenge.ID == "" {
			return v, err
		}
		c.ID = v.Contact.ID
		sctx, cancel := context.WithTimeout(ctx, startTimeout)
		err = g.start.Verify(sctx, workflows.VerifyInput{ChallengeID: v.Challenge.ID, ContactID: v.Contact.ID})
		cancel()
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		switch {
		case err == nil:
			return v, nil
		case errors.As(err, &already) && !v.New:
			// The row says pending but its workflow is over: replace it.
			if _, err := g.Store.FinishChallenge(ctx, v.Challenge.ID, store.ChallengeCanceled); err != nil {
				return v, err
			}
			continue
		default:
			g.Logger.ErrorContext(ctx, "start verification workflow", "challenge", v.Challenge.ID, "error", err)
			if v.New {
				if _, ferr := g.Store.FinishChallenge(context.WithoutCancel(ctx), v.Challenge.ID, store.ChallengeCanceled); ferr != nil {
					g.Logger.ErrorContext(ctx, "cancel verification", "challenge", v.Challenge.ID, "error", ferr)
				}
			}
			return v, klaxon.Errorf(klaxon.EUnavailable,
				"The contact method is saved, but no code could be sent: the workflow engine is unavailable. Ask for one later with POST /api/v1/contacts/%d/resend.", v.Contact.ID)
		}
	}
	return store.VerificationStart{}, klaxon.Errorf(klaxon.EUnavailable, "The verification could not be started; try again.")
}

// contactID parses the {id} of a contact route; ok is false for anything
// that cannot be one.
func contactID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	return id, err == nil && id > 0
}

// getContact is GET /api/v1/contacts/{id}.
func (g *Gateway) getContact(w http.ResponseWriter, r *http.Request) {
	id, ok := contactID(r)
	c, err := g.Store.ContactByID(r.Context(), id)
	if !ok || klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.ENotFound, "No contact method with id %q.", truncate(mux.Vars(r)["id"], 20)))
		return
	}
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	chs, err := g.Store.LatestChallenges(r.Context(), []int64{c.ID})
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, contactOf(c, chs[c.ID]))
}

// readCode decodes {"code"}: a missing field is a 400; the code itself is
// returned as given.
func readCode(w http.ResponseWriter, r *http.Request) (string, error) {
	var req api.CodeRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return "", err
	}
	if req.Code == nil {
		return "", klaxon.Errorf(klaxon.EInvalid, `Field "code" is required.`)
	}
	return *req.Code, nil
}

// verifyContact is POST /api/v1/contacts/{id}/verify {"code"}: 200
// {"id","status":"verified"}, or 422 "That code is not valid." for a
// wrong, expired or exhausted code and for a contact that does not exist
// alike. Repeating the code that verified the contact answers 200 again.
func (g *Gateway) verifyContact(w http.ResponseWriter, r *http.Request) {
	raw, err := readCode(w, r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	id, ok := contactID(r)
	if !ok {
		writeError(w, r, g.Logger, errBadCode)
		return
	}
	c, err := g.verifyContactCode(r.Context(), id, raw)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ContactVerified{ID: c.ID, Status: store.ContactVerified})
}

// verifyContactCode checks a code a person typed for a contact method's
// verification. Every refusal is errBadCode, so that the answer never tells
// whether a contact method exists; a contact already verified accepts the
// code that verified it again.
func (g *Gateway) verifyContactCode(ctx context.Context, id int64, raw string) (store.Contact, error) {
	typed, wellFormed := code.Normalize(raw)
	if !wellFormed {
		return store.Contact{}, errBadCode
	}
	c, err := g.Store.ContactByID(ctx, id)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return c, errBadCode
	}
	if err != nil {
		return c, err
	}
	if c.Status == store.ContactVerified {
		match, err := g.Store.VerifiedCodeMatches(ctx, c.ID, g.Config.Peppers().Matcher(typed))
		switch {
		case err != nil:
			return c, err
		case match:
			return c, nil
		default:
			return c, errBadCode
		}
	}
	chs, err := g.Store.LatestChallenges(ctx, []int64{c.ID})
	if err != nil {
		return c, err
	}
	ch, ok := chs[c.ID]
	if !ok || ch.Status != store.ChallengePending {
		return c, errBadCode
	}
	ans, err := g.checkCode(ctx, ch.ID, typed)
	switch {
	case errors.Is(err, errCodeRefused):
		return c, errBadCode
	case err != nil:
		return c, err
	case !ans.Valid:
		return c, errBadCode
	}
	c.Status = store.ContactVerified
	return c, nil
}

// errCodeRefused marks a code the workflow refused or could not take (a
// malformed code, an ended challenge, a workflow that is gone).
var errCodeRefused = errors.New("code refused")

// checkCode asks a challenge's workflow to check a code, and waits for the
// answer. A refusal is errCodeRefused; a workflow that does not answer in
// time is EUnavailable.
func (g *Gateway) checkCode(ctx context.Context, challengeID, code string) (workflows.CodeAnswer, error) {
	var ans workflows.CodeAnswer
	// The workflow is handed the code by reference: the typed code never
	// enters its history. The check takes the claim; whatever the answer,
	// none is left behind.
	ref, err := g.Store.PutClaim(ctx, store.ClaimCode, code)
	if err != nil {
		return ans, err
	}
	defer func() {
		if err := g.Store.DropClaim(context.WithoutCancel(ctx), ref); err != nil {
			g.Logger.ErrorContext(ctx, "drop code claim", "challenge", challengeID, "error", err)
		}
	}()
	err = g.update(ctx, challengeID, workflows.UpdateVerify, &ans, workflows.CodeCheck{Ref: ref})
	var ae *temporal.ApplicationError
	var nf *serviceerror.NotFound
	switch {
	case err == nil:
		return ans, nil
	case errors.As(err, &ae), errors.As(err, &nf):
		return ans, errCodeRefused
	case errors.Is(err, context.DeadlineExceeded):
		return ans, klaxon.Errorf(klaxon.EUnavailable, "The code could not be checked just now; try again in a minute.")
	default:
		if isUpdateOnClosedWorkflow(err) {
			return ans, errCodeRefused
		}
		g.Logger.ErrorContext(ctx, "check code", "challenge", challengeID, "error", err)
		return ans, klaxon.Errorf(klaxon.EUnavailable, "The code could not be checked just now; try again in a minute.")
	}
}

// update sends an update to a workflow and waits, within updateTimeout,
// for its result.
func (g *Gateway) update(ctx context.Context, workflowID, name string, out any, args ...any) error {
	ctx, cancel := context.WithTimeout(ctx, updateTimeout)
	defer cancel()
	h, err := g.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflowID, UpdateName: name, Args: args, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}

// isUpdateOnClosedWorkflow reports whether err says the workflow had
// already completed.
func isUpdateOnClosedWorkflow(err error) bool {
	return strings.Contains(err.Error(), "workflow execution already completed")
}

// resendCode is POST /api/v1/contacts/{id}/resend: a new code for the
// verification under way (no sooner than 60 s after the last one), or a new
// verification when the last one ended. 202 with the verification; 429
// with Retry-After when it is too soon.
func (g *Gateway) resendCode(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, ok := contactID(r)
	c, err := g.Store.ContactByID(ctx, id)
	if !ok || klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.ENotFound, "No contact method with id %q.", truncate(mux.Vars(r)["id"], 20)))
		return
	}
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if c.Status == store.ContactVerified {
		writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EConflict, "This contact method is already verified."))
		return
	}
	chs, err := g.Store.LatestChallenges(ctx, []int64{c.ID})
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	if ch, ok := chs[c.ID]; ok && ch.Status == store.ChallengePending {
		var ans workflows.ResendAnswer
		err := g.update(ctx, ch.ID, workflows.UpdateResend, &ans)
		if err == nil {
			ch, err = g.Store.ChallengeByID(ctx, ch.ID)
			if err != nil {
				writeError(w, r, g.Logger, err)
				return
			}
			writeJSON(w, http.StatusAccepted, contactOf(c, ch))
			return
		}
		if rerr := resendRefusal(err, ch); rerr != nil {
			writeError(w, r, g.Logger, rerr)
			return
		}
		if !isChallengeOver(err) {
			g.Logger.ErrorContext(ctx, "resend code", "challenge", ch.ID, "error", err)
			writeError(w, r, g.Logger, klaxon.Errorf(klaxon.EUnavailable, "No new code could be sent just now; try again in a minute."))
			return
		}
		// The verification ended meanwhile: start a new one below.
	}
	v, err := g.startVerification(ctx, c)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusAccepted, contactOf(v.Contact, v.Challenge))
}

// resendRefusal turns the workflow's refusal of a resend into a 429 with
// Retry-After; it returns nil for other errors.
func resendRefusal(err error, ch store.Challenge) error {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		return nil
	}
	switch ae.Type() {
	case workflows.ErrTypeTooSoon:
		var secs int
		if ae.HasDetails() {
			_ = ae.Details(&secs)
		}
		return &klaxon.Error{Code: klaxon.EThrottled, Message: ae.Message(), RetryAfter: time.Duration(max(secs, 1)) * time.Second}
	case workflows.ErrTypeTooManySends:
		wait := time.Minute
		if ch.ExpiresAt != nil {
			wait = max(time.Until(*ch.ExpiresAt), time.Second)
		}
		return &klaxon.Error{Code: klaxon.EThrottled, RetryAfter: wait, Message: fmt.Sprintf(
			"%s A new verification can start when this one expires, in %d seconds.", ae.Message(), int(wait.Seconds()+0.5))}
	}
	return nil
}

func isChallengeOver(err error) bool {
	var ae *temporal.ApplicationError
	var nf *serviceerror.NotFound
	return errors.As(err, &ae) && ae.Type() == workflows.ErrTypeChallengeOver ||
		errors.As(err, &nf) || isUpdateOnClosedWorkflow(err)
}

// randomToken returns a short random string for workflow ids.
func randomToken() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}
