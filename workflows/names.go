// Package workflows holds Klaxon's Temporal workflows: every long-running
// thing — a delivery with retries, a verification code waiting for its
// answer, an escalating page, a channel being created, a rotation handing
// off. Workflow code here is deterministic and checked by workflowcheck.
package workflows

import "go.temporal.io/sdk/temporal"

// The names below are a persisted API: running histories refer to them.
// Never rename one; add new ones.

// DefaultTaskQueue is the task queue Klaxon's workflows and activities run
// on unless KLAXON_TASK_QUEUE names another (to keep two deployments, or two
// tests, on one Temporal namespace apart).
const DefaultTaskQueue = "klaxon"

// Workflow type names.
const (
	// WorkflowMessage delivers one standalone message (POST /api/v1/messages).
	WorkflowMessage = "Message"

	// Inbound, verification and login codes.
	// WorkflowInbound handles one durable inbound event (a text or keypress).
	WorkflowInbound = "Inbound"
	// WorkflowVerifyContact verifies one contact method with a code.
	WorkflowVerifyContact = "VerifyContact"
	// WorkflowOTP is one login code for another application.
	WorkflowOTP = "OTP"
	// (inbound: add here)

	// Paging.
	// WorkflowPage escalates one page until someone acknowledges it; its
	// ID is "page/<id>".
	WorkflowPage = "Page"
	// (paging: add here)

	// Rotations.
	// WorkflowRotation announces a rotation's handoffs, one per rotation,
	// with ID "rotation/NAME"; it continues as new after each handoff.
	WorkflowRotation = "Rotation"
	// (rotations: add here)

	// Channels.
	// (channels: add here)
	WorkflowChannelCreate    = "ChannelCreate"
	WorkflowBroadcast        = "Broadcast"
	WorkflowBroadcastBatch   = "BroadcastBatch"
	WorkflowProvisionNumbers = "ProvisionNumbers"
)

// Activity type names.
const (
	ActivitySendFirst = "SendFirst"
	ActivitySend      = "Send"
	ActivityFinalize  = "Finalize"

	// Inbound, verification and login codes.
	ActivityLoadInbound     = "LoadInbound"
	ActivityFinishInbound   = "FinishInbound"
	ActivityMirrorOptOut    = "MirrorOptOut"
	ActivityClaimReply      = "ClaimReply"
	ActivityFindCodeReply   = "FindCodeReply"
	ActivityIssueCode       = "IssueCode"
	ActivityCheckCode       = "CheckCode"
	ActivityFinishChallenge = "FinishChallenge"
	// (inbound: add here)

	// Paging.
	ActivityPagePolicy          = "PagePolicy"
	ActivityPageBeginStep       = "PageBeginStep"
	ActivityPageRecordEvent     = "PageRecordEvent"
	ActivityPageSetStatus       = "PageSetStatus"
	ActivityPageHangUpCalls     = "PageHangUpCalls"
	ActivityPageUpdate          = "PageUpdate"
	ActivityPageFindReplyTarget = "PageFindReplyTarget"
	ActivityPageRequest         = "PageRequest"
	ActivityPageClaimErrorReply = "PageClaimErrorReply"
	ActivityPageFindCall        = "PageFindCall"
	// (paging: add here)

	// Rotations.
	ActivityPlanHandoff     = "PlanHandoff"
	ActivityHandoffMessages = "HandoffMessages"
	// (rotations: add here)

	// Channels.
	// (channels: add here)
	ActivityChannelSettings       = "ChannelSettings"
	ActivityLookupChannel         = "LookupChannel"
	ActivityChannelMembers        = "ChannelMembers"
	ActivityJoinChannel           = "JoinChannel"
	ActivityLeaveChannel          = "LeaveChannel"
	ActivitySetHotline            = "SetHotline"
	ActivityHotlineID             = "HotlineID"
	ActivityHotlineSender         = "HotlineSender"
	ActivityAdmitChannelRequest   = "AdmitChannelRequest"
	ActivityPrepareChannelRequest = "PrepareChannelRequest"
	ActivityClaimNumber           = "ClaimNumber"
	ActivityReleaseNumber         = "ReleaseNumber"
	ActivityCreateChannel         = "CreateChannel"
	ActivityCountPool             = "CountPool"
	ActivitySystemChannelAdmins   = "SystemChannelAdmins"
	ActivityStartBroadcast        = "StartBroadcast"
	ActivityFinishBroadcast       = "FinishBroadcast"
	ActivityPlanBroadcast         = "PlanBroadcast"
	ActivityMembersPage           = "MembersPage"
	ActivityAvailableNumbers      = "AvailableNumbers"
	ActivityBuyNumber             = "BuyNumber"
	ActivityRecordNumber          = "RecordNumber"
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
	// (inbound: add here)
	// UpdateAck acknowledges a page and UpdateResolve resolves it; their
	// validators refuse what would change nothing.
	UpdateAck     = "ack"
	UpdateResolve = "resolve"
	// SignalPageDelivery carries a provider status of a page's message.
	SignalPageDelivery = "page-delivery"
	// (paging: add here)
	// SignalRotationReplan tells a rotation's workflow that the rotation or
	// its overrides changed, so it plans its next handoff again.
	SignalRotationReplan = "rotation-replan"

	// (rotations: add here)
	// (channels: add here)
	// UpdateChannelResult waits for a ChannelCreate workflow's outcome.
	UpdateChannelResult = "channel-result"
)

// Query names.
const (
	// QueryState returns a workflow's current state.
	QueryState = "state"
)

// Search attributes. Maintainers find any stuck request with
// `temporal workflow list --query 'KlaxonKind="message" AND KlaxonStatus="retrying"'`.
var (
	// SearchKind is what the workflow does: message, page, verification,
	// otp, inbound, channel-create, broadcast, rotation.
	SearchKind = temporal.NewSearchAttributeKeyKeyword("KlaxonKind")
	// SearchStatus is the workflow's own status (queued, sending, retrying,
	// sent, failed, waiting, open, acked, ...).
	SearchStatus = temporal.NewSearchAttributeKeyKeyword("KlaxonStatus")
	// SearchRef is the id of the thing the workflow is about (message id,
	// page id, channel id, contact id).
	SearchRef = temporal.NewSearchAttributeKeyKeyword("KlaxonRef")
	// SearchPageID is the page a workflow belongs to.
	SearchPageID = temporal.NewSearchAttributeKeyKeyword("KlaxonPageID")
	// SearchPageStatus is a page's status: open, acked, resolved.
	SearchPageStatus = temporal.NewSearchAttributeKeyKeyword("KlaxonPageStatus")
	// SearchTarget is a page's target ("user:alice", "rotation:ops").
	SearchTarget = temporal.NewSearchAttributeKeyKeyword("KlaxonTarget")
	// SearchChannel is the SMS channel (its phone number's id, never the
	// number itself) a workflow works on.
	SearchChannel = temporal.NewSearchAttributeKeyKeyword("KlaxonChannel")
)

// SearchAttributes lists every custom search attribute Klaxon uses, so the
// dev server and `klaxon serve` can register the missing ones.
func SearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{
		SearchKind, SearchStatus, SearchRef, SearchPageID, SearchPageStatus, SearchTarget, SearchChannel,
	}
}
