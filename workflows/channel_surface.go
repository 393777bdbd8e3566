package workflows

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon/activities"
)

// SMS channels' Temporal surface: names (a persisted API: never rename
// one), ids, starts — the same from the API and from a text — and the
// registration.

// Channel workflow type names.
const (
	WorkflowChannelCreate    = "ChannelCreate"
	WorkflowBroadcast        = "Broadcast"
	WorkflowBroadcastBatch   = "BroadcastBatch"
	WorkflowProvisionNumbers = "ProvisionNumbers"
)

// Channel activity names.
const (
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
	// ActivityReadChannelText parses a channel text where its words are.
	ActivityReadChannelText = "ReadChannelText"
)

// UpdateChannelResult waits for a ChannelCreate workflow's outcome.
const UpdateChannelResult = "channel-result"

// BroadcastWorkflowID is the workflow id of the broadcast sent by the text
// with MessageSid sid.
func BroadcastWorkflowID(sid string) string { return "broadcast/" + sid }

// ChannelCreateWorkflowID is the id of the workflow of a channel request.
func ChannelCreateWorkflowID(requestID string) string { return "channel-create/" + requestID }

// ProvisionWorkflowID is the workflow id of a provisioning request.
func ProvisionWorkflowID(requestID string) string { return "numbers-provision/" + requestID }

// onceStart is a start spec for a request that runs once: a running
// workflow with its id is joined, a closed one answers instead.
func onceStart(workflow, id string, attrs temporal.SearchAttributes) startSpec {
	return startSpec{
		workflow: workflow, id: id,
		conflict: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		reuse:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		attrs:    attrs,
	}
}

func channelCreateStart(in ChannelCreateInput) startSpec {
	return onceStart(WorkflowChannelCreate, in.RequestID,
		temporal.NewSearchAttributes(SearchKind.ValueSet("channel-create"), SearchStatus.ValueSet("creating")))
}

func broadcastStart(in BroadcastInput) startSpec {
	return onceStart(WorkflowBroadcast, in.BroadcastID, temporal.SearchAttributes{})
}

// CreateChannel starts (or joins) the request's ChannelCreate workflow and
// waits for its outcome through the UpdateChannelResult update, which
// answers as soon as the channel exists; a finished workflow answers with
// its result.
func (s Starter) CreateChannel(ctx context.Context, in ChannelCreateInput) (ChannelCreateResult, error) {
	var res ChannelCreateResult
	op := s.Client.NewWithStartWorkflowOperation(channelCreateStart(in).options(s.TaskQueue), WorkflowChannelCreate, in)
	h, err := s.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: op,
		UpdateOptions: client.UpdateWorkflowOptions{
			UpdateName: UpdateChannelResult, WaitForStage: client.WorkflowUpdateStageCompleted,
		},
	})
	if err == nil {
		if err = h.Get(ctx, &res); err == nil {
			return res, nil
		}
	}
	if ctx.Err() != nil {
		return res, fmt.Errorf("create channel: %w", err)
	}
	// The same request finished before, or completed before the update
	// reached it: its answer stands.
	if err := s.Client.GetWorkflow(ctx, in.RequestID, "").Get(ctx, &res); err != nil {
		return res, fmt.Errorf("create channel: %w", err)
	}
	return res, nil
}

// ProvisionNumbers runs (or joins) a provisioning request and waits for its
// result; a finished request answers with its result again.
func (s Starter) ProvisionNumbers(ctx context.Context, in ProvisionInput) (ProvisionResult, error) {
	var res ProvisionResult
	run, err := s.Client.ExecuteWorkflow(ctx,
		onceStart(WorkflowProvisionNumbers, in.RequestID, temporal.SearchAttributes{}).options(s.TaskQueue),
		WorkflowProvisionNumbers, in)
	switch {
	case temporal.IsWorkflowExecutionAlreadyStartedError(err):
		err = s.Client.GetWorkflow(ctx, in.RequestID, "").Get(ctx, &res)
	case err == nil:
		err = run.Get(ctx, &res)
	}
	if err != nil {
		return res, fmt.Errorf("provision numbers: %w", err)
	}
	return res, nil
}

// registerChannels registers SMS channels on r.
func registerChannels(r worker.Registry, c *activities.Channels) {
	registerWorkflow(r, ChannelCreate, WorkflowChannelCreate)
	registerWorkflow(r, Broadcast, WorkflowBroadcast)
	registerWorkflow(r, BroadcastBatch, WorkflowBroadcastBatch)
	registerWorkflow(r, ProvisionNumbers, WorkflowProvisionNumbers)
	registerActivity(r, c.ChannelSettings, ActivityChannelSettings)
	registerActivity(r, c.LookupChannel, ActivityLookupChannel)
	registerActivity(r, c.ChannelMembers, ActivityChannelMembers)
	registerActivity(r, c.JoinChannel, ActivityJoinChannel)
	registerActivity(r, c.LeaveChannel, ActivityLeaveChannel)
	registerActivity(r, c.SetHotline, ActivitySetHotline)
	registerActivity(r, c.HotlineID, ActivityHotlineID)
	registerActivity(r, c.HotlineSender, ActivityHotlineSender)
	registerActivity(r, c.AdmitChannelRequest, ActivityAdmitChannelRequest)
	registerActivity(r, c.PrepareChannelRequest, ActivityPrepareChannelRequest)
	registerActivity(r, c.ClaimNumber, ActivityClaimNumber)
	registerActivity(r, c.ReleaseNumber, ActivityReleaseNumber)
	registerActivity(r, c.CreateChannel, ActivityCreateChannel)
	registerActivity(r, c.CountPool, ActivityCountPool)
	registerActivity(r, c.SystemChannelAdmins, ActivitySystemChannelAdmins)
	registerActivity(r, c.StartBroadcast, ActivityStartBroadcast)
	registerActivity(r, c.FinishBroadcast, ActivityFinishBroadcast)
	registerActivity(r, c.PlanBroadcast, ActivityPlanBroadcast)
	registerActivity(r, c.MembersPage, ActivityMembersPage)
	registerActivity(r, c.AvailableNumbers, ActivityAvailableNumbers)
	registerActivity(r, c.BuyNumber, ActivityBuyNumber)
	registerActivity(r, c.RecordNumber, ActivityRecordNumber)
	registerActivity(r, c.ReadChannelText, ActivityReadChannelText)
}
