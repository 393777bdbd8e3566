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

// The chat bridge's Temporal surface: its names (a persisted API: never
// rename one), ids, starts and registration.

// WorkflowChatOutbox says a chat network's lines, one after another, in
// the order they were handed to it.
const WorkflowChatOutbox = "ChatOutbox"

// Activity names.
const (
	// ActivityChatSay says one line; it runs on the network's own task
	// queue (ChatTaskQueue), which only the connected bridge polls.
	ActivityChatSay = "ChatSay"
	// ActivityRelayText relays a text to the paging number into chat.
	ActivityRelayText = "RelayText"
)

// SignalChatLine hands an outbox a recorded line's id.
const SignalChatLine = "chat-line"

// ChatOutboxWorkflowID is the workflow id of a network's outbox: one per
// network and task queue, so every line of a network is said in order.
func ChatOutboxWorkflowID(taskQueue, network string) string {
	return "chat-outbox/" + taskQueue + "/" + network
}

// ChatTaskQueue is the task queue of a network's lines: only the process
// that holds the network's connection polls it, and only while connected,
// so lines wait in Temporal while the bot is away.
func ChatTaskQueue(taskQueue, network string) string { return taskQueue + "-chat-" + network }

// ChatLine hands recorded chat line lineID to its network's outbox,
// starting the outbox if it is not running.
func (s Starter) ChatLine(ctx context.Context, network string, lineID int64) error {
	_, err := s.Client.SignalWithStartWorkflow(ctx, ChatOutboxWorkflowID(s.TaskQueue, network), SignalChatLine, lineID,
		client.StartWorkflowOptions{
			TaskQueue:                s.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(SearchKind.ValueSet("chat-outbox"),
				SearchRef.ValueSet(network)),
		}, WorkflowChatOutbox, ChatOutboxInput{Network: network})
	if err != nil {
		return fmt.Errorf("hand chat line %d to the %s outbox: %w", lineID, network, err)
	}
	return nil
}

// registerChat registers the bridge's workflow and main-queue activities.
func registerChat(r worker.Registry, c *activities.Chat) {
	registerWorkflow(r, ChatOutbox, WorkflowChatOutbox)
	// A nil Chat relays nothing (the bridge is off).
	registerActivity(r, c.RelayText, ActivityRelayText)
}

// RegisterChatSay registers a network's ChatSay on the worker of its own
// task queue (the bridge's, while it is connected).
func RegisterChatSay(r worker.Registry, s *activities.ChatSay) {
	registerActivity(r, s.Say, ActivityChatSay)
}
