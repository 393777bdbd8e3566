package workflows

import (
	"fmt"
	"strconv"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/activities"
)

// RotationInput starts (or continues) a rotation's handoff workflow, whose
// id is RotationWorkflowID.
type RotationInput struct {
	Rotation string
	// After is the last handoff already announced; the workflow announces
	// the handoffs after it. Zero means "from now".
	After time.Time
	// Announced is who was last told they are on call ("" for nobody); nil
	// when unknown, and then whoever is on call is adopted silently. When
	// the person on call changes without a handoff (an override in force is
	// removed, the person on call leaves the rotation), both are told.
	Announced *string
}

// RotationResult is how a rotation's workflow ended: only when its rotation
// was deleted.
type RotationResult struct {
	Deleted bool
}

// RotationReplan is the payload of SignalRotationReplan.
type RotationReplan struct {
	// Reason says what changed, for the history ("members", "override"...).
	Reason string `json:"reason,omitempty"`
}

// RotationState is what QueryState answers for a rotation's workflow.
type RotationState struct {
	Rotation string `json:"rotation"`
	// Status is planning, waiting (for a reminder or handoff), idle (no
	// handoff ahead), announcing, or deleted.
	Status      string     `json:"status"`
	NextHandoff *time.Time `json:"next_handoff,omitempty"`
	Outgoing    string     `json:"outgoing,omitempty"`
	Incoming    string     `json:"incoming,omitempty"`
	ReminderAt  *time.Time `json:"reminder_at,omitempty"`
	// LastHandoff is the last handoff announced.
	LastHandoff *time.Time `json:"last_handoff,omitempty"`
	// OnCall is who was last told they are on call.
	OnCall   string   `json:"on_call,omitempty"`
	Version  int64    `json:"version"`
	Warnings []string `json:"warnings,omitempty"`
}

// Rotation statuses, in RotationState and the KlaxonStatus search attribute.
const (
	rotationPlanning   = "planning"
	rotationWaiting    = "waiting"
	rotationIdle       = "idle"
	rotationAnnouncing = "announcing"
	rotationDeleted    = "deleted"
)

// rotationHistoryLimit bounds a run's history when edits keep it re-planning
// between handoffs; each handoff starts a new run anyway.
const rotationHistoryLimit = 2000

// rotationFirstReadOptions are for the first try at a read of the rotation:
// a local activity, so a handoff does not wait for task-queue round trips;
// briefly retried in place.
func rotationFirstReadOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout:    10 * time.Second,
		ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second},
	}
}

// rotationReadOptions are for a read that the first try could not do:
// retried for as long as it takes, since Postgres being down must delay a
// handoff, never lose it.
func rotationReadOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	}
}

// readRotation runs the plan read: first locally (a plan has no side
// effect, so a failed workflow task may make it again), then, if that
// fails, as a regular activity under a retry policy with no end — the same
// two lanes as a delivery.
func readRotation(ctx workflow.Context, activity string, in, out any) error {
	lctx := workflow.WithLocalActivityOptions(ctx, rotationFirstReadOptions())
	err := workflow.ExecuteLocalActivity(lctx, activity, in).Get(ctx, out)
	if err == nil || temporal.IsCanceledError(err) {
		return err
	}
	actx := workflow.WithActivityOptions(ctx, rotationReadOptions())
	return workflow.ExecuteActivity(actx, activity, in).Get(ctx, out)
}

// reminderMinLead is how far ahead of a shift a reminder must still be to
// be sent; closer, the handoff text itself follows at once.
const reminderMinLead = time.Minute

// handoffGiveUp bounds the delivery of a handoff message: past it, the news
// is stale.
const handoffGiveUp = 30 * time.Minute

// Rotation announces a rotation's handoffs, for as long as the rotation
// exists. It plans the next handoff from Postgres (who hands over to whom,
// and when), sleeps on a durable timer until the reminder and then until
// the handoff, and sends "You are now on call…" to the incoming person and
// "You are off call…" to the outgoing one through the delivery pipeline.
// Then it continues as new, so its history stays short. A
// SignalRotationReplan (any edit of the rotation or its overrides) makes it
// plan again; when an edit changed who is on call right now (an override in
// force removed, the person on call removed from the rotation), both people
// are told at once. A worker that is down at the handoff instant finds the timer
// fired when it returns: the texts go out late, once; when several
// handoffs were missed, only the latest is announced.
func Rotation(ctx workflow.Context, in RotationInput) (RotationResult, error) {
	w := &rotationRun{in: in, st: RotationState{Rotation: in.Rotation}, reminded: map[string]bool{}}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (RotationState, error) { return w.st, nil }); err != nil {
		return RotationResult{}, fmt.Errorf("rotation %s: %w", in.Rotation, err)
	}
	w.replan = workflow.GetSignalChannel(ctx, SignalRotationReplan)
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchKind.ValueSet("rotation"), SearchRef.ValueSet(in.Rotation))
	if !in.After.IsZero() {
		t := in.After
		w.st.LastHandoff = &t
	}
	return w.run(ctx)
}

// rotationRun is one run of a rotation's workflow.
type rotationRun struct {
	in     RotationInput
	st     RotationState
	replan workflow.ReceiveChannel
	// reminded holds the reminders sent in this run, by handoff and person,
	// so a re-plan does not send one again.
	reminded map[string]bool
}

func (w *rotationRun) setStatus(ctx workflow.Context, s string) {
	if w.st.Status == s {
		return
	}
	w.st.Status = s
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchStatus.ValueSet(s))
}

func (w *rotationRun) run(ctx workflow.Context) (RotationResult, error) {
	logger := workflow.GetLogger(ctx)
	after := w.in.After
	if after.IsZero() {
		after = workflow.Now(ctx)
	}
	announced := w.in.Announced
	for {
		if info := workflow.GetInfo(ctx); info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > rotationHistoryLimit {
			return RotationResult{}, w.continueAsNew(ctx, after, announced)
		}
		w.setStatus(ctx, rotationPlanning)
		// This plan reads the rotation as it is now: it answers every
		// re-plan signal already received (SignalWithStart's own, too).
		w.drainReplans(ctx)
		now := workflow.Now(ctx)
		var plan activities.HandoffPlan
		pin := activities.PlanHandoffInput{Rotation: w.in.Rotation, After: after, Now: now}
		if err := readRotation(ctx, ActivityPlanHandoff, pin, &plan); err != nil {
			return RotationResult{}, fmt.Errorf("rotation %s: plan: %w", w.in.Rotation, err)
		}
		if !plan.Exists {
			w.setStatus(ctx, rotationDeleted)
			logger.Info("rotation deleted; handoffs end", "rotation", w.in.Rotation)
			return RotationResult{Deleted: true}, nil
		}
		if announced == nil {
			cur := plan.Current
			announced = &cur
		}
		w.st.Version, w.st.OnCall = plan.Version, *announced
		w.st.NextHandoff, w.st.Outgoing, w.st.Incoming, w.st.ReminderAt = nil, "", "", nil
		if (plan.At.IsZero() || plan.At.After(now)) && plan.Current != *announced {
			// The person on call changed with no handoff to explain it: tell
			// both, now.
			w.setStatus(ctx, rotationAnnouncing)
			msgs, err := w.messages(ctx, activities.HandoffMessagesInput{
				Rotation: w.in.Rotation, At: now, Kind: activities.HandoffCorrection, Outgoing: *announced,
				Key: correctionKey(ctx)})
			if err != nil {
				return RotationResult{}, err
			}
			if !msgs.Exists || !msgs.Current {
				continue
			}
			w.send(ctx, msgs)
			cur := msgs.Incoming
			return RotationResult{}, w.continueAsNew(ctx, now, &cur)
		}
		if plan.At.IsZero() {
			// Nobody will ever take over until something changes.
			w.setStatus(ctx, rotationIdle)
			w.waitReplan(ctx)
			continue
		}
		at := plan.At
		w.st.NextHandoff, w.st.Outgoing, w.st.Incoming = &at, plan.Outgoing, plan.Incoming
		w.setStatus(ctx, rotationWaiting)

		if plan.Reminder > 0 && plan.Incoming != "" {
			remindAt := plan.At.Add(-plan.Reminder)
			key := strconv.FormatInt(plan.At.Unix(), 10) + "/" + plan.Incoming
			if !w.reminded[key] {
				w.st.ReminderAt = &remindAt
				if !w.sleepUntil(ctx, remindAt) {
					continue
				}
				// A reminder is useful only a while before the shift starts
				// (an override from "in a moment" needs none).
				if plan.At.Sub(workflow.Now(ctx)) >= reminderMinLead {
					w.announce(ctx, plan.At, activities.HandoffReminder)
				}
				w.reminded[key] = true
				w.st.ReminderAt = nil
			}
		}
		if !w.sleepUntil(ctx, plan.At) {
			continue
		}

		w.setStatus(ctx, rotationAnnouncing)
		msgs, err := w.messages(ctx, activities.HandoffMessagesInput{Rotation: w.in.Rotation, At: plan.At, Kind: activities.HandoffAnnounce})
		if err != nil {
			return RotationResult{}, err
		}
		switch {
		case !msgs.Exists:
			continue // the next plan ends the workflow
		case !msgs.Current:
			// An edit moved or removed this handoff since it was planned.
			continue
		case !msgs.NextAt.IsZero() && !msgs.NextAt.After(workflow.Now(ctx)):
			// Woken late, with a later handoff also past: announcing this one
			// would be stale news. Announce only the latest.
			logger.Warn("handoff superseded while the worker was away; not announced",
				"rotation", w.in.Rotation, "at", plan.At, "next", msgs.NextAt)
			after = plan.At
			continue
		}
		w.send(ctx, msgs)
		after = plan.At
		w.st.LastHandoff = &after
		cur := msgs.Incoming
		return RotationResult{}, w.continueAsNew(ctx, after, &cur)
	}
}

// sleepUntil waits for instant t on a durable timer. It returns false when
// a re-plan signal came first (the timer is canceled).
func (w *rotationRun) sleepUntil(ctx workflow.Context, t time.Time) bool {
	d := t.Sub(workflow.Now(ctx))
	if d <= 0 {
		return true
	}
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, d)
	fired := false
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(workflow.Future) { fired = true })
	sel.AddReceive(w.replan, func(c workflow.ReceiveChannel, _ bool) {
		var sig RotationReplan
		c.Receive(ctx, &sig)
	})
	sel.Select(ctx)
	if !fired {
		w.drainReplans(ctx)
	}
	return fired
}

// waitReplan blocks until a re-plan signal.
func (w *rotationRun) waitReplan(ctx workflow.Context) {
	var sig RotationReplan
	w.replan.Receive(ctx, &sig)
	w.drainReplans(ctx)
}

// drainReplans consumes re-plan signals already queued: one plan covers
// them all.
func (w *rotationRun) drainReplans(ctx workflow.Context) {
	var sig RotationReplan
	for w.replan.ReceiveAsync(&sig) {
	}
}

// messages decides what to send for a handoff. It is a regular activity,
// never a local one: its answer must be in the history before anything is
// sent, or a workflow task that fails after sending (a signal racing the
// continue-as-new) would decide again, perhaps differently, and the
// workflow would lose track of who it told.
func (w *rotationRun) messages(ctx workflow.Context, in activities.HandoffMessagesInput) (activities.HandoffMessages, error) {
	var msgs activities.HandoffMessages
	actx := workflow.WithActivityOptions(ctx, rotationReadOptions())
	if err := workflow.ExecuteActivity(actx, ActivityHandoffMessages, in).Get(ctx, &msgs); err != nil {
		return msgs, fmt.Errorf("rotation %s: %s messages: %w", w.in.Rotation, in.Kind, err)
	}
	return msgs, nil
}

// announce sends the messages of one handoff (or its reminder), when it is
// still current.
func (w *rotationRun) announce(ctx workflow.Context, at time.Time, kind string) {
	msgs, err := w.messages(ctx, activities.HandoffMessagesInput{Rotation: w.in.Rotation, At: at, Kind: kind})
	if err != nil {
		workflow.GetLogger(ctx).Error("handoff messages", "rotation", w.in.Rotation, "kind", kind, "error", err)
		return
	}
	if msgs.Exists && msgs.Current {
		w.send(ctx, msgs)
	}
}

// send delivers a handoff's messages side by side and records warnings. A
// failed delivery is logged; it never stops the rotation.
func (w *rotationRun) send(ctx workflow.Context, msgs activities.HandoffMessages) {
	logger := workflow.GetLogger(ctx)
	w.st.Warnings = msgs.Warnings
	for _, warn := range msgs.Warnings {
		logger.Warn("handoff recipient unreachable", "rotation", w.in.Rotation, "warning", warn)
	}
	wg := workflow.NewWaitGroup(ctx)
	for _, m := range msgs.Messages {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			if _, err := deliver(ctx, m, DeliverOptions{GiveUpAfter: handoffGiveUp}); err != nil {
				logger.Warn("handoff message not delivered", "rotation", w.in.Rotation, "message", m.ID, "error", err)
			}
		})
	}
	wg.Wait(ctx)
}

// continueAsNew starts the next run after the handoff at after, carrying no
// pending signal over: the new run plans from the database anyway.
func (w *rotationRun) continueAsNew(ctx workflow.Context, after time.Time, announced *string) error {
	w.drainReplans(ctx)
	return workflow.NewContinueAsNewError(ctx, WorkflowRotation, RotationInput{Rotation: w.in.Rotation, After: after, Announced: announced})
}

// correctionKey identifies one correction announcement, deterministically:
// the run and the point in its history at which it was decided.
func correctionKey(ctx workflow.Context) string {
	info := workflow.GetInfo(ctx)
	run := info.WorkflowExecution.RunID
	if len(run) > 12 {
		run = run[:12]
	}
	return run + "-" + strconv.Itoa(info.GetCurrentHistoryLength())
}
