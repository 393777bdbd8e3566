package gateway

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/gorilla/mux"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/code"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// Throttles of login codes against SMS pumping (a flood of codes to numbers
// whose owner is paid per text): per number, per user, per number across
// every kind of code, and overall. They are counted in Postgres, so they
// hold across every gateway process.
func otpLimits() []store.Limit {
	return []store.Limit{
		{Scope: store.LimitAddress, Purpose: store.PurposeOTP, Window: 10 * time.Minute, Max: 3,
			Message: "Too many login codes were sent to this number in the last 10 minutes; try again later."},
		{Scope: store.LimitUser, Purpose: store.PurposeOTP, Window: time.Hour, Max: 5,
			Message: "Too many login codes were sent to this user in the last hour; try again later."},
		{Scope: store.LimitAddress, Window: time.Hour, Max: 10,
			Message: "Too many codes were sent to this number in the last hour; try again later."},
		{Scope: store.LimitAll, Purpose: store.PurposeOTP, Window: time.Minute, Max: 100,
			Message: "Klaxon is sending too many login codes right now; try again in a minute."},
	}
}

// otpTarget resolves an OTP request to the number to text (and the user,
// when one was named): a user's first verified SMS number.
func (g *Gateway) otpTarget(ctx context.Context, req api.OTPRequest) (number string, userID int64, err error) {
	p, u := strings.TrimSpace(req.Phone), strings.TrimSpace(req.User)
	switch {
	case p != "" && u != "":
		return "", 0, klaxon.Errorf(klaxon.EInvalid, `Send either "phone" or "user", not both.`)
	case p == "" && u == "":
		return "", 0, klaxon.Errorf(klaxon.EInvalid, `Send "phone" (a phone number) or "user" (a handle).`)
	case p != "":
		if strings.ContainsFunc(p, unicode.IsControl) {
			return "", 0, klaxon.Errorf(klaxon.EInvalid, "The phone number must be plain text on one line.")
		}
		n, err := phone.Normalize(p, g.Config.DefaultRegion)
		if err != nil {
			return "", 0, err
		}
		if err := refuseCostlyNumber(n); err != nil {
			return "", 0, err
		}
		return n, 0, nil
	}
	user, err := g.userByHandle(ctx, u)
	if err != nil {
		return "", 0, err
	}
	cs, err := g.Store.Contacts(ctx, user.ID, true)
	if err != nil {
		return "", 0, err
	}
	for _, c := range cs {
		if c.Type == klaxon.SMS {
			return c.Address, user.ID, nil
		}
	}
	return "", 0, klaxon.Errorf(klaxon.EUnprocessable, "User %q has no verified SMS number.", truncate(u, 40))
}

// createOTP is POST /api/v1/otp: 201 {"id"}, and a login code by SMS. A
// throttled request is a 429 with Retry-After and changes nothing.
func (g *Gateway) createOTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req api.OTPRequest
	if err := decodeJSON(w, r, &req); err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	number, userID, err := g.otpTarget(ctx, req)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	id, err := g.sendOTP(ctx, klaxon.SMS, number, userID)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	writeJSON(w, http.StatusCreated, api.OTPSent{ID: id, ExpiresIn: int(workflows.DefaultCodeTTL / time.Second)})
}

// checkOTP is POST /api/v1/otp/{id}/check {"code"}: {"valid":true} once,
// for the right code within its life and tries; {"valid":false} for
// anything else, including an unknown id, so nothing is revealed.
func (g *Gateway) checkOTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	raw, err := readCode(w, r)
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	invalid := func() { writeJSON(w, http.StatusOK, api.OTPCheck{Valid: false}) }
	id := mux.Vars(r)["id"]
	code, ok := code.Normalize(raw)
	if !ok || !strings.HasPrefix(id, "otp_") || len(id) > 64 {
		invalid()
		return
	}
	ch, err := g.Store.ChallengeByID(ctx, workflows.OTPWorkflowID(id))
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound || err == nil && (ch.Purpose != store.PurposeOTP || ch.Status != store.ChallengePending) {
		invalid()
		return
	}
	if err != nil {
		writeError(w, r, g.Logger, err)
		return
	}
	ans, err := g.checkCode(ctx, ch.ID, code)
	switch {
	case errors.Is(err, errCodeRefused):
		invalid()
	case err != nil:
		writeError(w, r, g.Logger, err)
	default:
		writeJSON(w, http.StatusOK, api.OTPCheck{Valid: ans.Valid})
	}
}

// sendOTP records a login code's challenge, under the OTP throttles, and
// starts its workflow, which sends the code to address by medium. It
// returns the OTP's id (its challenge is workflows.OTPWorkflowID(id)).
func (g *Gateway) sendOTP(ctx context.Context, medium klaxon.Medium, address string, userID int64) (string, error) {
	id := NewID("otp")
	ch, err := g.Store.StartOTP(ctx, store.Challenge{
		ID: workflows.OTPWorkflowID(id), Medium: medium, Address: address, UserID: userID,
		MaxAttempts: workflows.DefaultMaxAttempts,
	}, otpLimits())
	if err != nil {
		return "", err
	}
	sctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	if err := g.start.OTP(sctx, workflows.OTPInput{ChallengeID: ch.ID, OTPID: id}); err != nil {
		g.Logger.ErrorContext(ctx, "start otp workflow", "otp", id, "error", err)
		if _, ferr := g.Store.FinishChallenge(context.WithoutCancel(ctx), ch.ID, store.ChallengeCanceled); ferr != nil {
			g.Logger.ErrorContext(ctx, "cancel otp", "otp", id, "error", ferr)
		}
		return "", klaxon.Errorf(klaxon.EUnavailable, "No login code could be sent: the workflow engine is unavailable. Try again.")
	}
	return id, nil
}
