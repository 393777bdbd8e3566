package workflows

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/redact"
)

// ChannelCreateInput is one channel request: from a CHANNEL text to the
// signup number, the API or the CLI.
type ChannelCreateInput struct {
	// RequestID is the workflow id: "channel-create/<MessageSid>" for a
	// text, "channel-create/<request id>" for the API.
	RequestID string
	// RequesterRef names who texted CHANNEL ("sender:ID"); empty for the
	// API. Requester is their number in histories recorded before
	// references.
	RequesterRef string `json:",omitempty"`
	Requester    string `json:",omitempty"`
	// AdminsRef names the admins ("claim:ID" of E.164 numbers, already
	// parsed and deduplicated); Admins holds them in histories recorded
	// before references.
	AdminsRef string   `json:",omitempty"`
	Admins    []string `json:",omitempty"`
	// Phone is the number the maintainer asked for; empty takes one from
	// the pool.
	Phone string
}

// requester is who asked by text; the zero party for the API.
func (in ChannelCreateInput) requester() party {
	return party{number: in.Requester, ref: in.RequesterRef}
}

// Outcomes of a channel request.
const (
	OutcomeCreated   = "created"
	OutcomeRefused   = "refused"    // the request itself was wrong
	OutcomeNoNumbers = "no_numbers" // the pool is empty
	OutcomeFailed    = "failed"     // something broke; try again later
)

// ChannelCreateResult is how a channel request ended.
type ChannelCreateResult struct {
	Outcome   string `json:"outcome"`
	Phone     string `json:"phone,omitempty"`
	ChannelID int64  `json:"channel_id,omitempty"`
	// Message is the sentence for the requester when the outcome is not
	// created.
	Message string `json:"message,omitempty"`
	// Conflict marks a refusal because the number asked for is taken.
	Conflict bool `json:"conflict,omitempty"`
}

// ChannelCreate makes a channel, each step an activity so that a crash
// midway neither loses the request nor repeats a text (every message id is
// derived from the workflow id): check the admins, claim a pool number,
// create the channel, tell the requester, welcome the admins from the new
// number, tell the maintainers (counts only), and warn the diagnostics
// channel when the pool is at or below its reserve size. The
// UpdateChannelResult update answers as soon as the outcome is known, so
// the API can reply before the notifications are out.
func ChannelCreate(ctx workflow.Context, in ChannelCreateInput) (ChannelCreateResult, error) {
	var res ChannelCreateResult
	if err := workflow.SetUpdateHandler(ctx, UpdateChannelResult, func(ctx workflow.Context) (ChannelCreateResult, error) {
		if err := workflow.Await(ctx, func() bool { return res.Outcome != "" }); err != nil {
			return ChannelCreateResult{}, err
		}
		return res, nil
	}); err != nil {
		return res, fmt.Errorf("channel create: %w", err)
	}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (ChannelCreateResult, error) { return res, nil }); err != nil {
		return res, fmt.Errorf("channel create: %w", err)
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchKind.ValueSet("channel-create"), SearchStatus.ValueSet("creating"))
	publish := func(r ChannelCreateResult) {
		res = r
		_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet(r.Outcome))
	}
	createChannel(ctx, in, publish)
	// Let a waiting update read the result before the workflow ends.
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	return res, nil
}

// createChannel runs the steps of ChannelCreate, publishing the outcome as
// soon as it is known.
func createChannel(ctx workflow.Context, in ChannelCreateInput, publish func(ChannelCreateResult)) {
	id := in.RequestID
	logger := workflow.GetLogger(ctx)
	var st activities.ChannelSettings
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 5 * time.Second})
	if err := workflow.ExecuteLocalActivity(lctx, ActivityChannelSettings).Get(ctx, &st); err != nil {
		failRequest(ctx, in, st, err, publish)
		return
	}
	var prep activities.PrepareResult
	if err := channelAct(ctx, ActivityPrepareChannelRequest, activities.PrepareInput{
		Admins: in.Admins, AdminsRef: in.AdminsRef, RequesterRef: in.RequesterRef,
	}, &prep); err != nil {
		failRequest(ctx, in, st, err, publish)
		return
	}
	requester := in.requester()
	reply := func(suffix, body string) {
		if requester == (party{}) || st.SignupNumber == "" {
			return
		}
		sendAll(ctx, []klaxon.Message{requester.address(klaxon.Message{ID: id + "/" + suffix, Medium: klaxon.SMS, From: st.SignupNumber,
			Body: body, Priority: klaxon.Normal, Purpose: "channel-signup", Ref: id})}, 1)
	}
	if prep.Problem != "" {
		publish(ChannelCreateResult{Outcome: OutcomeRefused, Message: prep.Problem})
		reply("refused", prep.Problem)
		return
	}

	var claim activities.ClaimResult
	if err := channelAct(ctx, ActivityClaimNumber, activities.ClaimInput{RequestID: id, Want: in.Phone}, &claim); err != nil {
		failRequest(ctx, in, st, err, publish)
		return
	}
	if claim.Problem != "" {
		publish(ChannelCreateResult{Outcome: OutcomeRefused, Message: claim.Problem, Conflict: true})
		reply("refused", claim.Problem)
		return
	}
	if claim.NoNumbers {
		text := channel.NotAcceptingText(st.Brand)
		publish(ChannelCreateResult{Outcome: OutcomeNoNumbers, Message: text})
		reply("refused", text)
		var counts activities.PoolCounts
		if err := channelAct(ctx, ActivityCountPool, nil, &counts); err != nil {
			logger.Error("count pool", "error", err)
		}
		notifySystem(ctx, channel.KindDiagnostics, id+"/diagnostics",
			channel.DiagnosticsCreationFailedText(counts.Available, counts.Active))
		return
	}

	var ch activities.CreatedChannel
	err := channelAct(ctx, ActivityCreateChannel, activities.CreateChannelInput{
		RequestID: id, Phone: claim.Phone, Admins: in.Admins, AdminsRef: in.AdminsRef,
	}, &ch)
	if err != nil {
		var ignored any
		if rerr := channelAct(ctx, ActivityReleaseNumber, id, &ignored); rerr != nil {
			logger.Error("release number", "error", rerr)
		}
		failRequest(ctx, in, st, err, publish)
		return
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchChannel.ValueSet(strconv.FormatInt(ch.ID, 10)),
		SearchRef.ValueSet(strconv.FormatInt(ch.ID, 10)))
	// The result is known: the API answers while the texts go out.
	publish(ChannelCreateResult{Outcome: OutcomeCreated, Phone: ch.Phone, ChannelID: ch.ID})

	// The requester's answer and the admins' welcomes go out together.
	// Admins learn the requester's number only when the requester is one
	// of them: every admin of a channel knows the others.
	adding := channel.AddedByTeam(st.Brand)
	if in.Requester != "" && slices.Contains(in.Admins, in.Requester) || in.RequesterRef != "" && prep.RequesterIsAdmin {
		adding = requester.shown()
	}
	var msgs []klaxon.Message
	if requester != (party{}) && st.SignupNumber != "" {
		msgs = append(msgs, requester.address(klaxon.Message{ID: id + "/created", Medium: klaxon.SMS, From: st.SignupNumber,
			Body: channel.CreatedText(st.Brand, ch.Phone), Priority: klaxon.Normal,
			Purpose: "channel-signup", Ref: id}))
	}
	admins := make([]party, 0, len(in.Admins)+len(ch.AdminIDs))
	for _, a := range in.Admins {
		admins = append(admins, party{number: a})
	}
	for _, m := range ch.AdminIDs {
		admins = append(admins, memberParty(channel.Member{ID: m}))
	}
	for i, a := range admins {
		msgs = append(msgs, a.address(klaxon.Message{ID: id + "/welcome/" + strconv.Itoa(i), Medium: klaxon.SMS, From: ch.Phone,
			Body: channel.WelcomeAdminText(st.Brand, adding, ch.Phone, st.Links), Priority: klaxon.Normal,
			Purpose: "channel-welcome", Ref: channelRef(ch.ID)}))
	}
	sendAll(ctx, msgs, 20)

	var counts activities.PoolCounts
	if err := channelAct(ctx, ActivityCountPool, nil, &counts); err != nil {
		logger.Error("count pool", "error", err)
		return
	}
	notifySystem(ctx, channel.KindSignup, id+"/maintainers", channel.MaintainersCreatedText(counts.Active))
	if claim.Counted && workflow.GetVersion(ctx, versionClaimCount, workflow.DefaultVersion, 1) == 1 {
		// The pool as this request's claim left it: a count taken after
		// the welcomes may include later requests' claims.
		counts.Available = claim.Available
	}
	if counts.Available <= st.ReserveSize {
		notifySystem(ctx, channel.KindDiagnostics, id+"/diagnostics",
			channel.DiagnosticsLowReserveText(counts.Available, counts.Active))
	}
}

// versionClaimCount warns of a low reserve with the count taken right
// after the claim.
const versionClaimCount = "channel-create-claim-count"

// failRequest answers a request that broke (the database or the pool step
// failed past its retries): "please try again later" to the requester, and
// the error, numbers redacted, to the maintainers on the diagnostics
// channel.
func failRequest(ctx workflow.Context, in ChannelCreateInput, st activities.ChannelSettings, err error, publish func(ChannelCreateResult)) {
	reason := redact.Text(rootMessage(err))
	logf := workflow.GetLogger(ctx).Error
	if isExpected(err) {
		logf = workflow.GetLogger(ctx).Warn // refused, e.g. the number was taken meanwhile
	}
	logf("channel request failed", "request", in.RequestID, "error", reason)
	publish(ChannelCreateResult{Outcome: OutcomeFailed, Message: channel.RequestFailedText()})
	if requester := in.requester(); requester != (party{}) && st.SignupNumber != "" {
		sendAll(ctx, []klaxon.Message{requester.address(klaxon.Message{ID: in.RequestID + "/failed", Medium: klaxon.SMS, From: st.SignupNumber,
			Body: channel.RequestFailedText(), Priority: klaxon.Normal,
			Purpose: "channel-signup", Ref: in.RequestID})}, 1)
	}
	notifySystem(ctx, channel.KindDiagnostics, in.RequestID+"/diagnostics", channel.ProvisionErrorText(reason))
}
