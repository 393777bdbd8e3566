// Package worker assembles Klaxon's Temporal worker: every workflow and
// activity registered under its persisted name, and the search attributes
// they need.
package worker

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/workflows"
)

// Deps are the activity implementations the worker runs.
type Deps struct {
	Delivery *activities.Delivery
	Inbound  *activities.Inbound
	Codes    *activities.Codes
	// (inbound: add here)
	Paging *activities.Paging
	// Subscriptions plans the FYIs of page events.
	Subscriptions *activities.Subscriptions
	// (paging: add here)
	Rotations *activities.Rotations
	// (rotations: add here)
	// (channels: add here)
	Channels *activities.Channels
}

// New returns a worker on taskQueue with everything registered. When it is
// stopped it takes no new tasks and gives the activities under way up to
// stopTimeout to finish — a text already handed to Twilio is recorded
// rather than abandoned — before it cancels them.
func New(c client.Client, taskQueue string, stopTimeout time.Duration, d Deps) tworker.Worker {
	w := tworker.New(c, taskQueue, tworker.Options{WorkerStopTimeout: stopTimeout})
	Register(w, d)
	return w
}

// Register registers every workflow and activity on r under its persisted
// name. Tests use it with the SDK's test environment.
func Register(r tworker.Registry, d Deps) {
	wf := func(fn any, name string) {
		r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
	}
	act := func(fn any, name string) {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	wf(workflows.Message, workflows.WorkflowMessage)

	act(d.Delivery.SendFirst, workflows.ActivitySendFirst)
	act(d.Delivery.Send, workflows.ActivitySend)
	act(d.Delivery.Finalize, workflows.ActivityFinalize)

	wf(workflows.Inbound, workflows.WorkflowInbound)
	wf(workflows.VerifyContact, workflows.WorkflowVerifyContact)
	wf(workflows.OTP, workflows.WorkflowOTP)
	if d.Inbound != nil {
		act(d.Inbound.LoadInbound, workflows.ActivityLoadInbound)
		act(d.Inbound.FinishInbound, workflows.ActivityFinishInbound)
		act(d.Inbound.MirrorOptOut, workflows.ActivityMirrorOptOut)
		act(d.Inbound.ClaimReply, workflows.ActivityClaimReply)
	}
	if d.Codes != nil {
		act(d.Codes.IssueCode, workflows.ActivityIssueCode)
		act(d.Codes.CheckCode, workflows.ActivityCheckCode)
		act(d.Codes.FinishChallenge, workflows.ActivityFinishChallenge)
		act(d.Codes.FindCodeReply, workflows.ActivityFindCodeReply)
	}
	// (inbound: add here)
	wf(workflows.Page, workflows.WorkflowPage)
	wf(workflows.AlertResolve, workflows.WorkflowAlertResolve)
	wf(workflows.PageFYI, workflows.WorkflowPageFYI)
	if d.Subscriptions != nil {
		act(d.Subscriptions.PlanFYIs, workflows.ActivityPlanFYIs)
	}
	if p := d.Paging; p != nil {
		act(p.LoadPolicy, workflows.ActivityPagePolicy)
		act(p.BeginStep, workflows.ActivityPageBeginStep)
		act(p.RecordPageEvent, workflows.ActivityPageRecordEvent)
		act(p.SetPageStatus, workflows.ActivityPageSetStatus)
		act(p.HangUpCalls, workflows.ActivityPageHangUpCalls)
		act(p.UpdatePage, workflows.ActivityPageUpdate)
		act(p.FindReplyTarget, workflows.ActivityPageFindReplyTarget)
		act(p.RequestPage, workflows.ActivityPageRequest)
		act(p.ClaimErrorReply, workflows.ActivityPageClaimErrorReply)
		act(p.FindCallPage, workflows.ActivityPageFindCall)
	}
	// (paging: add here)
	wf(workflows.Rotation, workflows.WorkflowRotation)
	if d.Rotations != nil {
		act(d.Rotations.PlanHandoff, workflows.ActivityPlanHandoff)
		act(d.Rotations.HandoffMessages, workflows.ActivityHandoffMessages)
	}
	// (rotations: add here)
	// (channels: add here)
	wf(workflows.ChannelCreate, workflows.WorkflowChannelCreate)
	wf(workflows.Broadcast, workflows.WorkflowBroadcast)
	wf(workflows.BroadcastBatch, workflows.WorkflowBroadcastBatch)
	wf(workflows.ProvisionNumbers, workflows.WorkflowProvisionNumbers)
	if c := d.Channels; c != nil {
		act(c.ChannelSettings, workflows.ActivityChannelSettings)
		act(c.LookupChannel, workflows.ActivityLookupChannel)
		act(c.ChannelMembers, workflows.ActivityChannelMembers)
		act(c.JoinChannel, workflows.ActivityJoinChannel)
		act(c.LeaveChannel, workflows.ActivityLeaveChannel)
		act(c.SetHotline, workflows.ActivitySetHotline)
		act(c.HotlineID, workflows.ActivityHotlineID)
		act(c.HotlineSender, workflows.ActivityHotlineSender)
		act(c.AdmitChannelRequest, workflows.ActivityAdmitChannelRequest)
		act(c.PrepareChannelRequest, workflows.ActivityPrepareChannelRequest)
		act(c.ClaimNumber, workflows.ActivityClaimNumber)
		act(c.ReleaseNumber, workflows.ActivityReleaseNumber)
		act(c.CreateChannel, workflows.ActivityCreateChannel)
		act(c.CountPool, workflows.ActivityCountPool)
		act(c.SystemChannelAdmins, workflows.ActivitySystemChannelAdmins)
		act(c.StartBroadcast, workflows.ActivityStartBroadcast)
		act(c.FinishBroadcast, workflows.ActivityFinishBroadcast)
		act(c.PlanBroadcast, workflows.ActivityPlanBroadcast)
		act(c.MembersPage, workflows.ActivityMembersPage)
		act(c.AvailableNumbers, workflows.ActivityAvailableNumbers)
		act(c.BuyNumber, workflows.ActivityBuyNumber)
		act(c.RecordNumber, workflows.ActivityRecordNumber)
	}
}

// EnsureSearchAttributes registers every custom search attribute Klaxon
// uses that the namespace does not have yet.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for _, k := range workflows.SearchAttributes() {
		if _, ok := have.GetCustomAttributes()[k.GetName()]; !ok {
			missing[k.GetName()] = indexedType(k)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing,
	})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

func indexedType(k temporal.SearchAttributeKey) enumspb.IndexedValueType {
	return k.GetValueType()
}
