package workflows

import (
	"context"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
)

// The delivery pipeline's Temporal surface: its names (a persisted API:
// never rename one), ids, starts and registration.

// WorkflowMessage delivers one standalone message (POST /api/v1/messages).
const WorkflowMessage = "Message"

// The delivery pipeline's activities.
const (
	ActivitySendFirst = "SendFirst"
	ActivitySend      = "Send"
	ActivityFinalize  = "Finalize"
)

// MessageWorkflowID is the workflow id of a standalone message: its natural
// key, so a repeated start finds the running delivery.
func MessageWorkflowID(messageID string) string { return "message/" + messageID }

func messageStart(in MessageInput) startSpec {
	return startSpec{
		workflow: WorkflowMessage, id: MessageWorkflowID(in.Message.ID),
		conflict: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		reuse:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		eager:    true,
		attrs: temporal.NewSearchAttributes(SearchKind.ValueSet("message"), SearchRef.ValueSet(in.Message.ID),
			SearchStatus.ValueSet(klaxon.StatusQueued)),
	}
}

// Message starts the delivery of one standalone message, or finds it
// running.
func (s Starter) Message(ctx context.Context, in MessageInput) error {
	_, err := s.start(ctx, messageStart(in), in)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return nil // its id is its record's: started before, and maybe done
	}
	return err
}

// MessageRecords keeps the record of a standalone message: its number and
// words stay there, and the workflow carries only its envelope
// (store.Store).
type MessageRecords interface {
	CreateMessage(ctx context.Context, m klaxon.Message) error
	MarkMessage(ctx context.Context, id, status, kind, reason string) error
}

// QueueMessage records m and starts its delivery: the one way a
// standalone message is sent, from the API and from chat. A message whose
// workflow cannot be started is marked failed, and the error (EUnavailable)
// says it was not queued.
func (s Starter) QueueMessage(ctx context.Context, rec MessageRecords, m klaxon.Message) error {
	if err := rec.CreateMessage(ctx, m); err != nil {
		return err
	}
	if err := s.Message(ctx, MessageInput{Message: m.Envelope()}); err != nil {
		_ = rec.MarkMessage(context.WithoutCancel(ctx), m.ID, klaxon.StatusFailed, "NotQueued", "the workflow engine was unavailable")
		return klaxon.Errorf(klaxon.EUnavailable, "The message could not be queued: the workflow engine is unavailable. Try again.")
	}
	return nil
}

// registerDelivery registers the delivery pipeline on r.
func registerDelivery(r worker.Registry, d *activities.Delivery) {
	registerWorkflow(r, Message, WorkflowMessage)
	registerActivity(r, d.SendFirst, ActivitySendFirst)
	registerActivity(r, d.Send, ActivitySend)
	registerActivity(r, d.Finalize, ActivityFinalize)
}
