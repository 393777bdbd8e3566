package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ChatOutboxInput is an outbox's network and, after a continue-as-new, the
// lines it had not said yet.
type ChatOutboxInput struct {
	Network string
	Pending []int64
}

// chatLinesPerRun bounds an outbox run's history: after this many lines it
// continues as new, carrying what is still pending.
const chatLinesPerRun = 500

// chatSayHeartbeat is how long ChatSay may go without a heartbeat.
const chatSayHeartbeat = 5 * time.Second

// chatSayOptions are for saying one line: it waits on the network's task
// queue as long as the bot is away (no schedule-to-start limit), and is
// retried quickly once it is back.
func chatSayOptions(taskQueue, network string) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           ChatTaskQueue(taskQueue, network),
		StartToCloseTimeout: 30 * time.Second,
		// ChatSay heartbeats while it waits to send, so a line in the
		// hands of a process that died is said by the next holder within
		// seconds, not after the 30 s.
		HeartbeatTimeout: chatSayHeartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second,
		},
	}
}

// ChatOutbox says a network's lines one at a time, in the order their
// signals arrived: one long-running workflow per network is the simplest
// total order (a network's flood control serialises its lines anyway), and
// sequential activities mean a line never overtakes the one before it,
// whether the bot is connected or away. Its payloads are line ids only:
// the lines themselves are in Postgres.
func ChatOutbox(ctx workflow.Context, in ChatOutboxInput) error {
	lines := workflow.GetSignalChannel(ctx, SignalChatLine)
	queue := append([]int64(nil), in.Pending...)
	tq := workflow.GetInfo(ctx).TaskQueueName
	actx := workflow.WithActivityOptions(ctx, chatSayOptions(tq, in.Network))
	drain := func() {
		var id int64
		for lines.ReceiveAsync(&id) {
			queue = append(queue, id)
		}
	}
	said := 0
	for {
		drain()
		if len(queue) == 0 {
			var id int64
			lines.Receive(ctx, &id)
			queue = append(queue, id)
			continue
		}
		id := queue[0]
		queue = queue[1:]
		if err := workflow.ExecuteActivity(actx, ActivityChatSay, id).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Error("chat line not said", "network", in.Network, "line", id, "error", err)
		}
		said++
		if said >= chatLinesPerRun {
			drain()
			return workflow.NewContinueAsNewError(ctx, ChatOutbox, ChatOutboxInput{Network: in.Network, Pending: queue})
		}
	}
}
