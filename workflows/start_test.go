package workflows_test

import (
	"context"
	"errors"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/workflows"
)

// ambiguousClient starts workflows on a real Temporal server and then
// answers as a start whose reply was lost: a deadline exceeded after the
// server accepted it (land false: refused before it reached the server).
type ambiguousClient struct {
	client.Client
	land bool
}

func (c ambiguousClient) ExecuteWorkflow(ctx context.Context, o client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	if c.land {
		if _, err := c.Client.ExecuteWorkflow(ctx, o, wf, args...); err != nil {
			return nil, err
		}
	}
	return nil, context.DeadlineExceeded
}

// A start whose answer was lost is checked by its workflow id: a workflow
// that started is a success (so the API neither marks the message failed
// nor deletes the page and asks for a retry that would send twice); one
// that did not start is still an error. Starting again one that already
// ran is a success too.
func TestStarter_AmbiguousStartErrorsAreCheckedByWorkflowID(t *testing.T) {
	tc := testenv.TemporalClient(t)
	tq := testenv.TaskQueue(t)
	ctx := context.Background()
	landed := workflows.Starter{Client: ambiguousClient{Client: tc, land: true}, TaskQueue: tq}
	lost := workflows.Starter{Client: ambiguousClient{Client: tc}, TaskQueue: tq}
	real := workflows.Starter{Client: tc, TaskQueue: tq}

	m := klaxon.Message{ID: "msg_ambiguous_" + tq, Medium: klaxon.SMS, To: "+15555550123", Body: "hi"}
	if err := landed.Message(ctx, workflows.MessageInput{Message: m}); err != nil {
		t.Errorf("a message whose start landed: %v, want success", err)
	}
	if err := real.Message(ctx, workflows.MessageInput{Message: m}); err != nil {
		t.Errorf("starting the same message again: %v, want success", err)
	}
	m.ID += "_lost"
	if err := lost.Message(ctx, workflows.MessageInput{Message: m}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a message whose start never landed: %v, want the error", err)
	}

	pg := paging.Page{ID: 424242, Target: "user:alice", Summary: "disk full", Status: "open"}
	if err := landed.Page(ctx, pg); err != nil {
		t.Errorf("a page whose start landed: %v, want success", err)
	}
	pg.ID++
	if err := lost.Page(ctx, pg); err == nil {
		t.Error("a page whose start never landed was reported started")
	}
}
