package workflows

import (
	"context"
	"errors"
	"strconv"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon/activities"
)

// The Temporal surface of inbound texts, verification and login codes: its
// names (a persisted API: never rename one), ids, starts and registration.

// Workflow type names.
const (
	// WorkflowInbound handles one durable inbound event (a text or keypress).
	WorkflowInbound = "Inbound"
	// WorkflowVerifyContact verifies one contact method with a code.
	WorkflowVerifyContact = "VerifyContact"
	// WorkflowOTP is one login code for another application.
	WorkflowOTP = "OTP"
)

// Activity type names.
const (
	ActivityLoadInbound     = "LoadInbound"
	ActivityFinishInbound   = "FinishInbound"
	ActivityMirrorOptOut    = "MirrorOptOut"
	ActivityClaimReply      = "ClaimReply"
	ActivityFindCodeReply   = "FindCodeReply"
	ActivityIssueCode       = "IssueCode"
	ActivityCheckCode       = "CheckCode"
	ActivityFinishChallenge = "FinishChallenge"
)

// Signal and update names.
const (
	// UpdateVerify checks a code (verification and login codes alike).
	UpdateVerify = "verify"
	// UpdateResend sends a new code, no sooner than the resend interval.
	UpdateResend = "resend"
	// SignalCodeReply carries a code texted back to the paging number.
	SignalCodeReply = "code-reply"
	// SignalInboundTurn wakes an inbound workflow waiting for an earlier
	// text of the same sender to be processed.
	SignalInboundTurn = "inbound-turn"
)

// InboundWorkflowID is the workflow id of an inbound event: its dedup key
// (the MessageSid), unique across databases and Twilio's retries alike.
func InboundWorkflowID(dedupKey string) string { return "inbound/" + dedupKey }

// VerifyWorkflowID is the workflow id of a contact method's verification:
// the contact's id and a random part, since contact ids are only unique
// within one database.
func VerifyWorkflowID(contactID int64, random string) string {
	return "verify/contact/" + strconv.FormatInt(contactID, 10) + "/" + random
}

// OTPWorkflowID is the workflow id of a login code.
func OTPWorkflowID(otpID string) string { return "otp/" + otpID }

// Inbound starts the workflow of one durable inbound event. Its id is the
// event's dedup key and a closed one is never started again: existing
// reports that it had been started before (and may have finished).
func (s Starter) Inbound(ctx context.Context, in InboundInput) (existing bool, err error) {
	_, err = s.start(ctx, startSpec{
		workflow: WorkflowInbound, id: InboundWorkflowID(in.DedupKey),
		conflict: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		reuse:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		eager:    true,
		attrs: temporal.NewSearchAttributes(SearchKind.ValueSet("inbound"),
			SearchRef.ValueSet(strconv.FormatInt(in.EventID, 10)), SearchStatus.ValueSet("received")),
	}, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return true, nil
	}
	return false, err
}

// Verify starts the verification of a contact method, or finds it
// running; a closed one with the same challenge id is never started again
// (the error is then a *serviceerror.WorkflowExecutionAlreadyStarted).
func (s Starter) Verify(ctx context.Context, in VerifyInput) error {
	in.Options.Brand = s.Brand
	_, err := s.start(ctx, startSpec{
		workflow: WorkflowVerifyContact, id: in.ChallengeID,
		conflict: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		reuse:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		eager:    true,
		attrs: temporal.NewSearchAttributes(SearchKind.ValueSet("verification"),
			SearchRef.ValueSet(strconv.FormatInt(in.ContactID, 10)), SearchStatus.ValueSet(CodeStatusSending)),
	}, in)
	return err
}

// OTP starts a login code's workflow; the challenge id is new, so any
// workflow with it already is an error.
func (s Starter) OTP(ctx context.Context, in OTPInput) error {
	in.Options.Brand = s.Brand
	_, err := s.start(ctx, startSpec{
		workflow: WorkflowOTP, id: in.ChallengeID,
		conflict: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		reuse:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		eager:    true,
		attrs: temporal.NewSearchAttributes(SearchKind.ValueSet("otp"), SearchRef.ValueSet(in.OTPID),
			SearchStatus.ValueSet(CodeStatusSending)),
	}, in)
	return err
}

// registerInbound registers the inbound backbone on r.
func registerInbound(r worker.Registry, a *activities.Inbound) {
	registerWorkflow(r, Inbound, WorkflowInbound)
	registerActivity(r, a.LoadInbound, ActivityLoadInbound)
	registerActivity(r, a.FinishInbound, ActivityFinishInbound)
	registerActivity(r, a.MirrorOptOut, ActivityMirrorOptOut)
	registerActivity(r, a.ClaimReply, ActivityClaimReply)
}

// registerCodes registers verification and login codes on r.
func registerCodes(r worker.Registry, c *activities.Codes) {
	registerWorkflow(r, VerifyContact, WorkflowVerifyContact)
	registerWorkflow(r, OTP, WorkflowOTP)
	registerActivity(r, c.IssueCode, ActivityIssueCode)
	registerActivity(r, c.CheckCode, ActivityCheckCode)
	registerActivity(r, c.FinishChallenge, ActivityFinishChallenge)
	registerActivity(r, c.FindCodeReply, ActivityFindCodeReply)
}
