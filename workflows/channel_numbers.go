package workflows

import (
	"fmt"
	"strconv"

	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/redact"
)

// MaxProvision is the most numbers one provisioning request may buy.
const MaxProvision = 50

// ProvisionInput asks to buy numbers for the reserve pool.
type ProvisionInput struct {
	// RequestID is the workflow id, "numbers-provision/<request id>".
	RequestID string
	Count     int
	AreaCode  string
}

// ProvisionFailure is a number that could not be bought, and why.
type ProvisionFailure struct {
	Phone  string `json:"phone,omitempty"`
	Reason string `json:"reason"`
}

// ProvisionResult is what a provisioning request bought.
type ProvisionResult struct {
	Bought []string           `json:"bought"`
	Failed []ProvisionFailure `json:"failed,omitempty"`
}

// ProvisionNumbers buys numbers through the provider's available-numbers
// and incoming-numbers APIs, their SMS webhook pointed at Klaxon, and adds
// them to the pool as available. Every failure is recorded (a failed number
// shows in `klaxon number list`) and reported to the maintainers on the
// diagnostics channel with the signup flow's provisioning error text.
func ProvisionNumbers(ctx workflow.Context, in ProvisionInput) (ProvisionResult, error) {
	res := ProvisionResult{Bought: []string{}}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchKind.ValueSet("provision"), SearchStatus.ValueSet("buying"))
	report := func(i int, reason string) {
		res.Failed = append(res.Failed, ProvisionFailure{Reason: reason})
		notifySystem(ctx, channel.KindDiagnostics, in.RequestID+"/diagnostics/"+strconv.Itoa(i), channel.ProvisionErrorText(reason))
	}
	pctx := workflow.WithActivityOptions(ctx, provisionActivityOptions())
	var candidates []string
	err := workflow.ExecuteActivity(pctx, ActivityAvailableNumbers, activities.AvailableNumbersInput{AreaCode: in.AreaCode, Count: in.Count}).Get(ctx, &candidates)
	if err != nil {
		report(0, redact.Text(rootMessage(err)))
		_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet("failed"))
		return res, nil
	}
	for i, n := range candidates {
		var sid string
		rec := activities.RecordNumberInput{Phone: n}
		if err := workflow.ExecuteActivity(pctx, ActivityBuyNumber, n).Get(ctx, &sid); err != nil {
			rec.Failed, rec.Reason = true, redact.Text(rootMessage(err))
		} else {
			rec.SID = sid
		}
		var ignored any
		if err := channelAct(ctx, ActivityRecordNumber, rec, &ignored); err != nil {
			return res, fmt.Errorf("provision numbers: %w", err)
		}
		if rec.Failed {
			report(i+1, rec.Reason)
			res.Failed[len(res.Failed)-1].Phone = n
			continue
		}
		res.Bought = append(res.Bought, n)
	}
	if len(candidates) < in.Count {
		report(len(candidates)+1, fmt.Sprintf("only %d of %d numbers were available", len(candidates), in.Count))
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet("done"))
	return res, nil
}
