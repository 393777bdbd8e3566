package workflows

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
)

// fakeDelivery stands in for activities.Delivery: each lane answers from a
// script, and Finalize records what it was told.
type fakeDelivery struct {
	first     func() (klaxon.Receipt, error)
	retry     func(attempt int32) (klaxon.Receipt, error)
	retries   atomic.Int32
	finalized []activities.FinalizeInput
}

func (f *fakeDelivery) register(env *testsuite.TestWorkflowEnvironment) {
	Register(env, Deps{})
	Override(env, func(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
		return f.first()
	}, ActivitySendFirst)
	Override(env, func(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
		n := f.retries.Add(1)
		return f.retry(n)
	}, ActivitySend)
	Override(env, func(ctx context.Context, in activities.FinalizeInput) error {
		f.finalized = append(f.finalized, in)
		return nil
	}, ActivityFinalize)
}

func transient(kind string) error {
	return temporal.NewApplicationError("provider unavailable", kind)
}

func permanent(kind string) error {
	return temporal.NewNonRetryableApplicationError("refused", kind, nil)
}

func testMessage() MessageInput {
	return MessageInput{Message: klaxon.Message{ID: "msg_1", Medium: klaxon.SMS, To: "+15555550123", Body: "hi"}}
}

func TestDelivery_FirstAttemptSucceedsWithoutRetryLane(t *testing.T) {
	env := newTestEnv()
	f := &fakeDelivery{
		first: func() (klaxon.Receipt, error) { return klaxon.Receipt{ProviderID: "SM1", Status: "queued"}, nil },
		retry: func(int32) (klaxon.Receipt, error) { t.Error("retry lane used"); return klaxon.Receipt{}, nil },
	}
	f.register(env)
	env.ExecuteWorkflow(WorkflowMessage, testMessage())
	var res MessageResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.ProviderID != "SM1" || res.Status != klaxon.StatusSent {
		t.Errorf("result = %+v", res)
	}
	if len(f.finalized) != 0 {
		t.Errorf("finalized a successful delivery: %+v", f.finalized)
	}
}

func TestDelivery_TransientFailuresRetryWithBackoffUntilAccepted(t *testing.T) {
	env := newTestEnv()
	f := &fakeDelivery{
		first: func() (klaxon.Receipt, error) { return klaxon.Receipt{}, transient("ProviderUnavailable") },
		retry: func(n int32) (klaxon.Receipt, error) {
			if n < 4 {
				return klaxon.Receipt{}, transient("Throttled")
			}
			return klaxon.Receipt{ProviderID: "SM2", Status: "queued"}, nil
		},
	}
	f.register(env)
	start := env.Now()
	env.ExecuteWorkflow(WorkflowMessage, testMessage())
	var res MessageResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.ProviderID != "SM2" {
		t.Errorf("result = %+v", res)
	}
	if got := f.retries.Load(); got != 4 {
		t.Errorf("%d retry-lane attempts, want 4", got)
	}
	// Backoff 1 s, 2 s, 4 s between the four tries: 7 s of workflow time.
	if el := env.Now().Sub(start); el < 7*time.Second || el > 8*time.Second {
		t.Errorf("retries took %v of workflow time, want the 1+2+4 s backoff", el)
	}
}

func TestDelivery_PermanentFailureIsNotRetried(t *testing.T) {
	env := newTestEnv()
	f := &fakeDelivery{
		first: func() (klaxon.Receipt, error) { return klaxon.Receipt{}, permanent("InvalidNumber") },
		retry: func(int32) (klaxon.Receipt, error) { t.Error("retry lane used"); return klaxon.Receipt{}, nil },
	}
	f.register(env)
	env.ExecuteWorkflow(WorkflowMessage, testMessage())
	err := env.GetWorkflowError()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != "InvalidNumber" {
		t.Fatalf("workflow error = %v, want InvalidNumber", err)
	}
	if len(f.finalized) != 1 || f.finalized[0].Status != klaxon.StatusFailed || f.finalized[0].Kind != "InvalidNumber" {
		t.Errorf("finalized = %+v", f.finalized)
	}
}

func TestDelivery_OptedOutRecipientIsSuppressed(t *testing.T) {
	env := newTestEnv()
	f := &fakeDelivery{
		first: func() (klaxon.Receipt, error) { return klaxon.Receipt{}, permanent(activities.ErrTypeOptedOut) },
		retry: func(int32) (klaxon.Receipt, error) { return klaxon.Receipt{}, nil },
	}
	f.register(env)
	env.ExecuteWorkflow(WorkflowMessage, testMessage())
	if env.GetWorkflowError() == nil {
		t.Fatal("opted-out delivery succeeded")
	}
	if len(f.finalized) != 1 || f.finalized[0].Status != klaxon.StatusSuppressed {
		t.Errorf("finalized = %+v, want suppressed", f.finalized)
	}
}

func TestDelivery_GivesUpAfterDeadlineAndRecordsWhy(t *testing.T) {
	env := newTestEnv()
	f := &fakeDelivery{
		first: func() (klaxon.Receipt, error) { return klaxon.Receipt{}, transient("ProviderUnavailable") },
		retry: func(int32) (klaxon.Receipt, error) { return klaxon.Receipt{}, transient("ProviderUnavailable") },
	}
	f.register(env)
	in := testMessage()
	in.GiveUpAfter = 10 * time.Minute
	env.ExecuteWorkflow(WorkflowMessage, in)
	if env.GetWorkflowError() == nil {
		t.Fatal("delivery that never succeeds did not fail")
	}
	if len(f.finalized) != 1 || f.finalized[0].Kind != "GaveUp" || f.finalized[0].Status != klaxon.StatusFailed {
		t.Fatalf("finalized = %+v, want a GaveUp failure", f.finalized)
	}
	if n := f.retries.Load(); n < 5 {
		t.Errorf("only %d retries in 10 minutes", n)
	}
}
