package workflows

import (
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/channel"
)

// channelActivityOptions are for the channel activities: short database
// steps, retried for a while, then given up so the person waiting gets an
// answer ("please try again later") instead of silence.
func channelActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Second,
		},
	}
}

// provisionActivityOptions are for buying numbers: a purchase is not
// idempotent, so it is tried at most twice.
func provisionActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 2},
	}
}

// channelRef is the ref of a channel's messages in the delivery log: its
// id, never its number.
func channelRef(id int64) string { return "channel:" + strconv.FormatInt(id, 10) }

// channelAct runs one channel activity and decodes its result.
func channelAct(ctx workflow.Context, name string, in any, out any) error {
	actx := workflow.WithActivityOptions(ctx, channelActivityOptions())
	return workflow.ExecuteActivity(actx, name, in).Get(ctx, out)
}

// channelReplyGiveUp bounds the delivery of the texts a channel sends while
// it handles an inbound text (replies, hotline forwards): the sender's next
// text waits for this one, so a failing provider must not hold it for the
// pipeline's usual hour.
const channelReplyGiveUp = 15 * time.Minute

// sendAll delivers every message concurrently (at most limit at a time)
// and returns how many failed for good. A failure is recorded by the
// pipeline; it never stops the others.
func sendAll(ctx workflow.Context, msgs []klaxon.Message, limit int) int {
	return sendAllWithin(ctx, msgs, limit, 0)
}

// sendAllWithin is sendAll with the deliveries given up after giveUp (0:
// the pipeline's default).
func sendAllWithin(ctx workflow.Context, msgs []klaxon.Message, limit int, giveUp time.Duration) int {
	opts := DeliverOptions{GiveUpAfter: giveUp}
	if len(msgs) == 0 {
		return 0
	}
	if len(msgs) == 1 {
		if _, err := deliver(ctx, msgs[0], opts); err != nil {
			return 1
		}
		return 0
	}
	sem := workflow.NewSemaphore(ctx, int64(limit))
	wg := workflow.NewWaitGroup(ctx)
	failed := 0
	for _, m := range msgs {
		if err := sem.Acquire(ctx, 1); err != nil {
			break
		}
		wg.Add(1)
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer wg.Done()
			defer sem.Release(1)
			if _, err := deliver(gctx, m, opts); err != nil {
				failed++
			}
		})
	}
	wg.Wait(ctx)
	return failed
}

// toMembers builds one message per member, from a channel's number, with
// ids prefix + "/" + member id (never the number).
func toMembers(prefix, from, body, purpose, ref string, members []channel.Member) []klaxon.Message {
	out := make([]klaxon.Message, 0, len(members))
	for _, m := range members {
		out = append(out, memberParty(m).address(klaxon.Message{
			ID: prefix + "/" + strconv.FormatInt(m.ID, 10), Medium: klaxon.SMS, From: from,
			Body: body, Priority: klaxon.Normal, Purpose: purpose, Ref: ref,
		}))
	}
	return out
}

// notifySystem sends body to the admins (maintainers) of the signup or
// diagnostics channel, from its number. Missing channels are skipped.
func notifySystem(ctx workflow.Context, kind, idPrefix, body string) {
	var sys activities.SystemAdmins
	if err := channelAct(ctx, ActivitySystemChannelAdmins, kind, &sys); err != nil {
		workflow.GetLogger(ctx).Error("system channel admins", "kind", kind, "error", err)
		return
	}
	if sys.Phone == "" {
		workflow.GetLogger(ctx).Warn("no system channel to notify", "kind", kind)
		return
	}
	sendAll(ctx, toMembers(idPrefix, sys.Phone, body, "channel-maintainers", kind, sys.Admins), 10)
}
