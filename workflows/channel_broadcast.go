package workflows

import (
	"strconv"

	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/channel"
)

// Broadcast fan-out shape: members are split into batches, each a child
// workflow, so no one history holds more than one batch's deliveries.
const (
	// broadcastBatchSize is the most recipients of one batch workflow.
	broadcastBatchSize = 500
	// broadcastParallelBatches is how many batches run at once.
	broadcastParallelBatches = 4
	// broadcastInFlight bounds the deliveries under way in one batch, so a
	// rate-limited broadcast holds at most parallel × in-flight activity
	// slots while it queues for its number.
	broadcastInFlight = 50
)

// BroadcastInput is one admin's BROADCAST.
type BroadcastInput struct {
	// BroadcastID is the workflow id, "broadcast/<MessageSid>"; it is the
	// ref of every message of the broadcast in the delivery log.
	BroadcastID  string
	ChannelID    int64
	ChannelPhone string
	// Text is the admin's words, quoted by reference ({{claim:ID}}, which
	// the delivery activity expands); in clear in histories recorded
	// before references.
	Text string
}

// BroadcastResult counts a broadcast's (or a batch's) recipients and the
// deliveries that failed for good.
type BroadcastResult struct {
	Recipients int
	Failed     int
}

// Broadcast sends an admin's message to every member of a channel from the
// channel's number: subscribers get the message, admins a copy marked
// [BROADCAST]. It plans batches of members by id and runs a few batch child
// workflows at a time; every delivery goes through the pipeline at Bulk
// priority, so pages go first and the per-number rate limit holds.
// Progress (sent, delivered, failed) is counted from the delivery log by
// the broadcast's id.
func Broadcast(ctx workflow.Context, in BroadcastInput) (BroadcastResult, error) {
	ref := strconv.FormatInt(in.ChannelID, 10)
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchKind.ValueSet("broadcast"), SearchChannel.ValueSet(ref),
		SearchRef.ValueSet(in.BroadcastID), SearchStatus.ValueSet("sending"))
	rec := activities.BroadcastRecord{ID: in.BroadcastID, ChannelID: in.ChannelID}
	var ignored any
	if err := channelAct(ctx, ActivityStartBroadcast, rec, &ignored); err != nil {
		return BroadcastResult{}, err
	}
	var bounds []int64
	if err := channelAct(ctx, ActivityPlanBroadcast, activities.PlanInput{ChannelID: in.ChannelID, BatchSize: broadcastBatchSize}, &bounds); err != nil {
		return BroadcastResult{}, err
	}
	batches := make([]BroadcastBatchInput, 0, len(bounds)+1)
	after := int64(0)
	for _, b := range bounds {
		batches = append(batches, BroadcastBatchInput{BroadcastInput: in, AfterID: after, UpToID: b, Limit: broadcastBatchSize})
		after = b
	}
	// The tail: members after the last full batch, and any who joined
	// since the plan (up to one more batch of them).
	batches = append(batches, BroadcastBatchInput{BroadcastInput: in, AfterID: after, Limit: 2 * broadcastBatchSize})

	var total BroadcastResult
	sem := workflow.NewSemaphore(ctx, broadcastParallelBatches)
	wg := workflow.NewWaitGroup(ctx)
	var firstErr error
	for i, b := range batches {
		if err := sem.Acquire(ctx, 1); err != nil {
			return total, err
		}
		wg.Add(1)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID: in.BroadcastID + "/batch/" + strconv.Itoa(i),
		})
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer wg.Done()
			defer sem.Release(1)
			var r BroadcastResult
			if err := workflow.ExecuteChildWorkflow(cctx, WorkflowBroadcastBatch, b).Get(gctx, &r); err != nil && firstErr == nil {
				firstErr = err
			}
			total.Recipients += r.Recipients
			total.Failed += r.Failed
		})
	}
	wg.Wait(ctx)
	if firstErr != nil {
		_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet("failed"))
		return total, firstErr
	}
	rec.Recipients = total.Recipients
	if err := channelAct(ctx, ActivityFinishBroadcast, rec, &ignored); err != nil {
		return total, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet("sent"))
	return total, nil
}

// BroadcastBatchInput is one batch of a broadcast: the members with ids in
// (AfterID, UpToID], UpToID 0 meaning no bound, at most Limit of them.
type BroadcastBatchInput struct {
	BroadcastInput
	AfterID int64
	UpToID  int64
	Limit   int
}

// BroadcastBatch delivers a broadcast to one batch of members, a bounded
// number at a time.
func BroadcastBatch(ctx workflow.Context, in BroadcastBatchInput) (BroadcastResult, error) {
	var members []channel.Member
	page := activities.PageInput{ChannelID: in.ChannelID, AfterID: in.AfterID, UpToID: in.UpToID, Limit: in.Limit}
	if err := channelAct(ctx, ActivityMembersPage, page, &members); err != nil {
		return BroadcastResult{}, err
	}
	msgs := make([]klaxon.Message, 0, len(members))
	for _, m := range members {
		body := in.Text
		if m.Role == channel.MemberAdmin {
			body = channel.BroadcastCopyText(in.Text)
		}
		msgs = append(msgs, memberParty(m).address(klaxon.Message{
			ID: in.BroadcastID + "/" + strconv.FormatInt(m.ID, 10), Medium: klaxon.SMS, From: in.ChannelPhone,
			Body: body, Priority: klaxon.Bulk, Purpose: "broadcast", Ref: in.BroadcastID,
		}))
	}
	failed := sendAll(ctx, msgs, broadcastInFlight)
	return BroadcastResult{Recipients: len(members), Failed: failed}, nil
}
