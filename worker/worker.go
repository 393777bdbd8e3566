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
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	tworker "go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon/workflows"
)

// stickyTimeout is how long a workflow task waits for the worker that
// cached its workflow before any worker may take it.
const stickyTimeout = 2 * time.Second

// New returns a worker on taskQueue with every feature registered (see
// workflows.Register). When it is stopped it takes no new tasks and gives
// the activities under way up to stopTimeout to finish — a text already
// handed to Twilio is recorded rather than abandoned — before it cancels
// them.
//
// A workflow's next task first goes to the worker that ran its last one
// (its sticky queue, where the workflow is cached). When that worker has
// died without saying so (killed, its machine gone), the task goes to any
// worker only after StickyScheduleToStartTimeout: stickyTimeout keeps that
// pause short, so a page or a chat line does not wait 5 s (the SDK's
// default) for a worker that will not come back.
func New(c client.Client, taskQueue string, stopTimeout time.Duration, d workflows.Deps) tworker.Worker {
	w := tworker.New(c, taskQueue, tworker.Options{WorkerStopTimeout: stopTimeout, StickyScheduleToStartTimeout: stickyTimeout})
	workflows.Register(w, d)
	return w
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
