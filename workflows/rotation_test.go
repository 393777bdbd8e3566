package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/oncall"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// sent is one message handed to the (fake) provider, at workflow time.
type sent struct {
	klaxon.Message
	At time.Time
}

// handoffWorld is a rotation's handoff workflow under the SDK's test
// environment (time skipping) with the real rotation activities on a real
// Postgres database; only the provider at the end of the delivery pipeline
// is replaced, by an outbox that records what was sent and when.
type handoffWorld struct {
	t     *testing.T
	db    *testenv.DB
	acts  *activities.Rotations
	mu    sync.Mutex
	out   []sent
	byID  map[string]int
	down  atomic.Bool // the worker's activities are unavailable
	state workflows.RotationState
	// overrideID is an override a test case made, for a later edit.
	overrideID int64
}

func newHandoffWorld(t *testing.T) *handoffWorld {
	w := &handoffWorld{t: t, db: testenv.Postgres(t), byID: map[string]int{}}
	w.acts = &activities.Rotations{Store: w.db.Store, Logger: slog.New(slog.DiscardHandler)}
	return w
}

// users creates users; each gets a verified contact of the given medium
// ("" for none), e.g. "alice=sms".
func (w *handoffWorld) users(specs ...string) {
	w.t.Helper()
	ctx := context.Background()
	for i, spec := range specs {
		handle, medium, _ := strings.Cut(spec, "=")
		u, err := w.db.Store.CreateUser(ctx, store.User{Handle: handle, Name: strings.ToUpper(handle[:1]) + handle[1:], Timezone: "UTC"})
		if err != nil {
			w.t.Fatal(err)
		}
		if medium == "" {
			continue
		}
		addr := fmt.Sprintf("+1555555%04d", 100+i)
		if medium == "email" {
			addr = handle + "@example.com"
		}
		c, err := w.db.Store.AddContact(ctx, store.Contact{UserID: u.ID, Type: klaxon.Medium(medium), Address: addr})
		if err != nil {
			w.t.Fatal(err)
		}
		if err := w.db.Store.MarkContactVerified(ctx, c.ID); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *handoffWorld) rotation(nr store.NewRotation) {
	w.t.Helper()
	if _, err := w.db.Store.CreateRotation(context.Background(), nr); err != nil {
		w.t.Fatal(err)
	}
}

// run runs one workflow run from start (workflow time) with in, calling
// during(env) before it starts (for delayed callbacks). It returns the
// next run's input when the run continued as new.
func (w *handoffWorld) run(start time.Time, in workflows.RotationInput, during func(env *testsuite.TestWorkflowEnvironment)) (next *workflows.RotationInput, res workflows.RotationResult) {
	w.t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.SetTestTimeout(time.Minute)
	workflows.Register(env, workflows.Deps{})
	unavailable := func() error {
		return temporal.NewApplicationError("worker unavailable", "Unavailable")
	}
	workflows.Override(env, func(ctx context.Context, in activities.PlanHandoffInput) (activities.HandoffPlan, error) {
		if w.down.Load() {
			return activities.HandoffPlan{}, unavailable()
		}
		return w.acts.PlanHandoff(ctx, in)
	}, workflows.ActivityPlanHandoff)
	workflows.Override(env, func(ctx context.Context, in activities.HandoffMessagesInput) (activities.HandoffMessages, error) {
		if w.down.Load() {
			return activities.HandoffMessages{}, unavailable()
		}
		return w.acts.HandoffMessages(ctx, in)
	}, workflows.ActivityHandoffMessages)
	provider := func(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
		m, err := activities.ResolveMessage(ctx, w.acts.Store, m)
		if err != nil {
			return klaxon.Receipt{}, err
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if i, ok := w.byID[m.ID]; ok {
			// The pipeline's idempotency: an id already accepted is not sent again.
			return klaxon.Receipt{ProviderID: fmt.Sprintf("SM%d", i), Status: "queued"}, nil
		}
		w.byID[m.ID] = len(w.out)
		w.out = append(w.out, sent{Message: m, At: env.Now()})
		return klaxon.Receipt{ProviderID: fmt.Sprintf("SM%d", len(w.out)), Status: "queued"}, nil
	}
	workflows.Override(env, provider, workflows.ActivitySendFirst)
	workflows.Override(env, provider, workflows.ActivitySend)
	workflows.Override(env, func(context.Context, activities.FinalizeInput) error { return nil }, workflows.ActivityFinalize)
	if during != nil {
		during(env)
	}
	env.ExecuteWorkflow(workflows.WorkflowRotation, in)
	if v, err := env.QueryWorkflow(workflows.QueryState); err == nil {
		_ = v.Get(&w.state)
	}
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	switch {
	case errors.As(err, &can):
		var nin workflows.RotationInput
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &nin); err != nil {
			w.t.Fatal(err)
		}
		return &nin, res
	case err != nil:
		w.t.Fatalf("workflow failed: %v", err)
	}
	if err := env.GetWorkflowResult(&res); err != nil {
		w.t.Fatal(err)
	}
	return nil, res
}

// sent returns what was sent, and forgets it.
func (w *handoffWorld) take() []sent {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.out
	w.out = nil
	return out
}

// line is a sent message as a test expects it: "medium to id-suffix @time: body".
func line(s sent, loc *time.Location) string {
	parts := strings.Split(s.ID, "/") // rotation/NAME/UNIX/PART/HANDLE
	id := parts[len(parts)-2]
	return fmt.Sprintf("%s %s %s @%s: %s", s.Medium, s.To, id, s.At.In(loc).Format("01-02 15:04"), s.Body)
}

func lines(ss []sent, loc *time.Location) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = line(s, loc)
	}
	slices.Sort(out)
	return out
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestRotation_HandoffsStayAtLocalTimeAcrossDST(t *testing.T) {
	tests := []struct {
		name       string
		zone       string
		shiftHours int
		start      time.Time // rotation start, local
		runFrom    time.Time // first workflow time
		want       [][]string
	}{
		{
			name: "New York daily 09:00 over spring forward", zone: "America/New_York", shiftHours: 24,
			start: time.Date(2026, 3, 6, 9, 0, 0, 0, mustLoc(t, "America/New_York")), runFrom: time.Date(2026, 3, 6, 10, 0, 0, 0, mustLoc(t, "America/New_York")),
			want: [][]string{
				{
					"sms +15555550100 out @03-07 09:00: You are off call for ops; Bob has it.",
					"sms +15555550101 in @03-07 09:00: You are now on call for ops until Sun 8 Mar 09:00 EDT.",
				},
				{
					"sms +15555550100 in @03-08 09:00: You are now on call for ops until Mon 9 Mar 09:00 EDT.",
					"sms +15555550101 out @03-08 09:00: You are off call for ops; Alice has it.",
				},
			},
		},
		{
			name: "Berlin weekly Monday 09:00 over the change to summer time", zone: "Europe/Berlin", shiftHours: 168,
			start: time.Date(2026, 3, 16, 9, 0, 0, 0, mustLoc(t, "Europe/Berlin")), runFrom: time.Date(2026, 3, 20, 12, 0, 0, 0, mustLoc(t, "Europe/Berlin")),
			want: [][]string{
				{
					"sms +15555550100 out @03-23 09:00: You are off call for ops; Bob has it.",
					"sms +15555550101 in @03-23 09:00: You are now on call for ops until Mon 30 Mar 09:00 CEST.",
				},
				{
					"sms +15555550100 in @03-30 09:00: You are now on call for ops until Mon 6 Apr 09:00 CEST.",
					"sms +15555550101 out @03-30 09:00: You are off call for ops; Alice has it.",
				},
			},
		},
		{
			name: "Berlin daily 09:00 over the change back to winter time", zone: "Europe/Berlin", shiftHours: 24,
			start: time.Date(2026, 10, 23, 9, 0, 0, 0, mustLoc(t, "Europe/Berlin")), runFrom: time.Date(2026, 10, 24, 12, 0, 0, 0, mustLoc(t, "Europe/Berlin")),
			want: [][]string{
				{
					"sms +15555550100 in @10-25 09:00: You are now on call for ops until Mon 26 Oct 09:00 CET.",
					"sms +15555550101 out @10-25 09:00: You are off call for ops; Alice has it.",
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newHandoffWorld(t)
			w.users("alice=sms", "bob=sms")
			w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: tt.zone, ShiftHours: tt.shiftHours, Start: tt.start, Members: []string{"alice", "bob"}}})
			loc := mustLoc(t, tt.zone)
			in := workflows.RotationInput{Rotation: "ops"}
			from := tt.runFrom
			for i, want := range tt.want {
				next, _ := w.run(from, in, nil)
				if next == nil {
					t.Fatalf("run %d did not continue as new after its handoff", i)
				}
				if got := lines(w.take(), loc); !slices.Equal(got, want) {
					t.Fatalf("handoff %d sent\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				in, from = *next, next.After
			}
		})
	}
}

func TestRotation_RemindsBeforeTheShiftAndAnnouncesAtIt(t *testing.T) {
	w := newHandoffWorld(t)
	w.users("alice=sms", "bob=voice")
	utc := time.UTC
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, utc)
	w.rotation(store.NewRotation{Name: "ops", Reminder: 90 * time.Minute,
		Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob"}}})
	next, _ := w.run(start.Add(time.Hour), workflows.RotationInput{Rotation: "ops"}, nil)
	if next == nil || !next.After.Equal(start.Add(24*time.Hour)) {
		t.Fatalf("next run %+v, want after the first handoff", next)
	}
	want := []string{
		"sms +15555550100 out @05-05 09:00: You are off call for ops; Bob has it.",
		"voice +15555550101 in @05-05 09:00: You are now on call for ops until Wed 6 May 09:00 UTC.",
		"voice +15555550101 remind @05-05 07:30: Reminder: you are on call for ops from Tue 5 May 09:00 UTC until Wed 6 May 09:00 UTC.",
	}
	if got := lines(w.take(), utc); !slices.Equal(got, want) {
		t.Fatalf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestRotation_WorkerDownAtHandoffSendsLateAndOnce: a worker that is away
// at the handoff instant finds, when it returns, the timer fired and the
// workflow's clock late. The run resumes from its last state (the last
// handoff it announced) at that late time.
func TestRotation_WorkerDownAtHandoffSendsLateAndOnce(t *testing.T) {
	w := newHandoffWorld(t)
	w.users("alice=sms", "bob=email")
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob"}}})
	handoff := start.Add(24 * time.Hour)
	back := handoff.Add(25 * time.Minute)
	in := workflows.RotationInput{Rotation: "ops", After: start}
	next, _ := w.run(back, in, nil)
	if next == nil || !next.After.Equal(handoff) {
		t.Fatalf("next run %+v, want one after the handoff", next)
	}
	want := []string{
		"email bob@example.com in @05-05 09:25: You are now on call for ops until Wed 6 May 09:00 UTC.",
		"sms +15555550100 out @05-05 09:25: You are off call for ops; Bob has it.",
	}
	got := w.take()
	if l := lines(got, time.UTC); !slices.Equal(l, want) {
		t.Fatalf("sent\n%s\nwant, late and once\n%s", strings.Join(l, "\n"), strings.Join(want, "\n"))
	}
	if id := "rotation/ops/" + fmt.Sprint(handoff.Unix()) + "/in/bob"; got[0].ID != id && got[1].ID != id {
		t.Errorf("ids %s, %s; want one to be %s", got[0].ID, got[1].ID, id)
	}
	// The same run executed again (a crash before it recorded its
	// progress, a reset) sends nothing twice: the message ids are the
	// delivery pipeline's idempotency keys.
	w.run(back.Add(time.Minute), in, nil)
	if again := w.take(); len(again) != 0 {
		t.Fatalf("the handoff was sent again: %v", lines(again, time.UTC))
	}
}

func TestRotation_DatabaseDownAtHandoffRetriesUntilBack(t *testing.T) {
	w := newHandoffWorld(t)
	w.users("alice=sms", "bob=sms")
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob"}}})
	handoff := start.Add(24 * time.Hour)
	from := start.Add(time.Hour)
	next, _ := w.run(from, workflows.RotationInput{Rotation: "ops"}, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() { w.down.Store(true) }, handoff.Add(-time.Minute).Sub(from))
		env.RegisterDelayedCallback(func() { w.down.Store(false) }, handoff.Add(2*time.Minute).Sub(from))
	})
	if next == nil {
		t.Fatal("no continue-as-new after the handoff")
	}
	got := w.take()
	if len(got) != 2 {
		t.Fatalf("sent %v, want the in and out texts once each", lines(got, time.UTC))
	}
	for _, s := range got {
		if late := s.At.Sub(handoff); late < 2*time.Minute || late > 3*time.Minute {
			t.Errorf("%s sent %v after the handoff, want soon after the database was back (2 min)", s.ID, late)
		}
	}
}

func TestRotation_LongOutageAnnouncesOnlyTheLatestHandoff(t *testing.T) {
	w := newHandoffWorld(t)
	w.users("alice=sms", "bob=sms", "carol=sms")
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	// 8-hour shifts: alice 09-17, bob 17-01, carol 01-09, ...
	w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 8, Start: start, Members: []string{"alice", "bob", "carol"}}})
	// The worker was away from before 17:00 until 03:00: two handoffs passed.
	next, _ := w.run(start.Add(18*time.Hour), workflows.RotationInput{Rotation: "ops", After: start}, nil)
	if next == nil {
		t.Fatal("no continue-as-new")
	}
	want := []string{
		"sms +15555550101 out @05-05 03:00: You are off call for ops; Carol has it.",
		"sms +15555550102 in @05-05 03:00: You are now on call for ops until Tue 5 May 09:00 UTC.",
	}
	if got := lines(w.take(), time.UTC); !slices.Equal(got, want) {
		t.Fatalf("sent\n%s\nwant only the latest handoff\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRotation_ReplansAfterEdits(t *testing.T) {
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	now := start.Add(time.Hour) // alice on call until 05-05 09:00, then bob
	ctx := context.Background()
	replan := func(env *testsuite.TestWorkflowEnvironment, after time.Duration, edit func()) {
		env.RegisterDelayedCallback(func() {
			edit()
			env.SignalWorkflow(workflows.SignalRotationReplan, workflows.RotationReplan{Reason: "test"})
		}, after)
	}
	tests := []struct {
		name string
		edit func(w *handoffWorld, env *testsuite.TestWorkflowEnvironment)
		want []string
	}{
		{
			name: "reordered members: carol is next",
			edit: func(w *handoffWorld, env *testsuite.TestWorkflowEnvironment) {
				replan(env, 2*time.Hour, func() {
					if _, err := w.db.Store.SetRotationMembers(ctx, "ops", []string{"alice", "carol", "bob"}, now.Add(2*time.Hour)); err != nil {
						t.Error(err)
					}
				})
			},
			want: []string{
				"sms +15555550100 out @05-05 09:00: You are off call for ops; Carol has it.",
				"sms +15555550102 in @05-05 09:00: You are now on call for ops until Wed 6 May 09:00 UTC.",
			},
		},
		{
			name: "an override brings the handoff forward",
			edit: func(w *handoffWorld, env *testsuite.TestWorkflowEnvironment) {
				replan(env, time.Hour, func() {
					o := store.NewOverride{User: "dave", Start: start.Add(6 * time.Hour), End: start.Add(26 * time.Hour)}
					if _, err := w.db.Store.AddOverride(ctx, "ops", o, now.Add(time.Hour)); err != nil {
						t.Error(err)
					}
				})
			},
			want: []string{
				"sms +15555550100 out @05-04 15:00: You are off call for ops; Dave has it.",
				"sms +15555550103 in @05-04 15:00: You are now on call for ops until Tue 5 May 11:00 UTC.",
			},
		},
		{
			name: "removing the planned override puts the handoff back",
			edit: func(w *handoffWorld, env *testsuite.TestWorkflowEnvironment) {
				o, err := w.db.Store.AddOverride(ctx, "ops", store.NewOverride{User: "dave", Start: start.Add(6 * time.Hour), End: start.Add(8 * time.Hour)}, now)
				if err != nil {
					t.Fatal(err)
				}
				replan(env, 3*time.Hour, func() {
					if _, err := w.db.Store.DeleteOverride(ctx, "ops", o.ID); err != nil {
						t.Error(err)
					}
				})
			},
			want: []string{
				"sms +15555550100 out @05-05 09:00: You are off call for ops; Bob has it.",
				"sms +15555550101 in @05-05 09:00: You are now on call for ops until Wed 6 May 09:00 UTC.",
			},
		},
		{
			name: "several edits at once: one plan",
			edit: func(w *handoffWorld, env *testsuite.TestWorkflowEnvironment) {
				env.RegisterDelayedCallback(func() {
					if _, err := w.db.Store.SetRotationMembers(ctx, "ops", []string{"alice", "dave", "bob"}, now.Add(2*time.Hour)); err != nil {
						t.Error(err)
					}
					for range 5 {
						env.SignalWorkflow(workflows.SignalRotationReplan, workflows.RotationReplan{Reason: "members"})
					}
				}, 2*time.Hour)
			},
			want: []string{
				"sms +15555550100 out @05-05 09:00: You are off call for ops; Dave has it.",
				"sms +15555550103 in @05-05 09:00: You are now on call for ops until Wed 6 May 09:00 UTC.",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newHandoffWorld(t)
			w.users("alice=sms", "bob=sms", "carol=sms", "dave=sms")
			w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob", "carol"}}})
			next, _ := w.run(now, workflows.RotationInput{Rotation: "ops"}, func(env *testsuite.TestWorkflowEnvironment) { tt.edit(w, env) })
			if next == nil {
				t.Fatal("no continue-as-new")
			}
			if got := lines(w.take(), time.UTC); !slices.Equal(got, tt.want) {
				t.Fatalf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestRotation_TellsBothWhenOnCallChangesWithoutAHandoff(t *testing.T) {
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	now := start.Add(time.Hour) // alice on call until 05-05 09:00, then bob
	ctx := context.Background()
	nobody, alice := "", "alice"
	tests := []struct {
		name      string
		announced *string
		setup     func(w *handoffWorld)
		edit      func(w *handoffWorld, env *testsuite.TestWorkflowEnvironment)
		want      []string
		wantNext  string // who the next run knows as on call
	}{
		{
			name: "a new rotation tells whoever is on call at once", announced: &nobody,
			want:     []string{"sms +15555550100 in @05-04 10:00: You are now on call for ops until Tue 5 May 09:00 UTC."},
			wantNext: "alice",
		},
		{
			name: "removing the override in force hands back at once", announced: &alice,
			setup: func(w *handoffWorld) {
				o, err := w.db.Store.AddOverride(ctx, "ops", store.NewOverride{User: "dave", Start: now.Add(time.Hour), End: now.Add(5 * time.Hour)}, now)
				if err != nil {
					t.Fatal(err)
				}
				w.overrideID = o.ID
			},
			want: []string{
				// The override's start is a handoff; its removal, below, is not.
				"sms +15555550100 out @05-04 11:00: You are off call for ops; Dave has it.",
				"sms +15555550103 in @05-04 11:00: You are now on call for ops until Mon 4 May 15:00 UTC.",
			},
			wantNext: "dave",
		},
		{
			name: "removing the person on call hands over to the next at once", announced: &alice,
			edit: func(w *handoffWorld, env *testsuite.TestWorkflowEnvironment) {
				env.RegisterDelayedCallback(func() {
					if _, err := w.db.Store.SetRotationMembers(ctx, "ops", []string{"bob", "carol"}, now.Add(time.Hour)); err != nil {
						t.Error(err)
					}
					env.SignalWorkflow(workflows.SignalRotationReplan, workflows.RotationReplan{Reason: "members"})
				}, time.Hour)
			},
			want: []string{
				"sms +15555550100 out @05-04 11:00: You are off call for ops; Bob has it.",
				"sms +15555550101 in @05-04 11:00: You are now on call for ops until Tue 5 May 09:00 UTC.",
			},
			wantNext: "bob",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newHandoffWorld(t)
			w.users("alice=sms", "bob=sms", "carol=sms", "dave=sms")
			w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob", "carol"}}})
			if tt.setup != nil {
				tt.setup(w)
			}
			next, _ := w.run(now, workflows.RotationInput{Rotation: "ops", After: now, Announced: tt.announced}, func(env *testsuite.TestWorkflowEnvironment) {
				if tt.edit != nil {
					tt.edit(w, env)
				}
			})
			if next == nil || next.Announced == nil || *next.Announced != tt.wantNext {
				t.Fatalf("next run %+v, want one knowing %s is on call", next, tt.wantNext)
			}
			if got := lines(w.take(), time.UTC); !slices.Equal(got, tt.want) {
				t.Fatalf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if tt.name == "removing the override in force hands back at once" {
				// The next run: dave's override is gone, alice is on call.
				next2, _ := w.run(now.Add(2*time.Hour), *next, func(env *testsuite.TestWorkflowEnvironment) {
					env.RegisterDelayedCallback(func() {
						if _, err := w.db.Store.DeleteOverride(ctx, "ops", w.overrideID); err != nil {
							t.Error(err)
						}
						env.SignalWorkflow(workflows.SignalRotationReplan, workflows.RotationReplan{Reason: "override removed"})
					}, time.Minute)
				})
				want := []string{
					"sms +15555550100 in @05-04 12:01: You are now on call for ops until Tue 5 May 09:00 UTC.",
					"sms +15555550103 out @05-04 12:01: You are off call for ops; Alice has it.",
				}
				if got := lines(w.take(), time.UTC); !slices.Equal(got, want) || next2 == nil || *next2.Announced != "alice" {
					t.Fatalf("after removing the override in force, sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

func TestRotation_OneMemberWaitsIdleUntilAnOverride(t *testing.T) {
	w := newHandoffWorld(t)
	w.users("solo=sms", "cover=sms")
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"solo"}}})
	now := start.Add(time.Hour)
	next, _ := w.run(now, workflows.RotationInput{Rotation: "ops"}, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			if w.state.Status != "" {
				t.Errorf("state read too early")
			}
			o := store.NewOverride{User: "cover", Start: start.Add(72 * time.Hour), End: start.Add(80 * time.Hour)}
			if _, err := w.db.Store.AddOverride(context.Background(), "ops", o, now.Add(48*time.Hour)); err != nil {
				t.Error(err)
			}
			env.SignalWorkflow(workflows.SignalRotationReplan, workflows.RotationReplan{Reason: "override"})
		}, 48*time.Hour)
	})
	if next == nil {
		t.Fatal("no continue-as-new")
	}
	want := []string{
		"sms +15555550100 out @05-07 09:00: You are off call for ops; Cover has it.",
		"sms +15555550101 in @05-07 09:00: You are now on call for ops until Thu 7 May 17:00 UTC.",
	}
	if got := lines(w.take(), time.UTC); !slices.Equal(got, want) {
		t.Fatalf("sent\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRotation_WarnsAboutUnreachableMembers(t *testing.T) {
	w := newHandoffWorld(t)
	w.users("alice=sms", "bob=")
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob"}}})
	w.run(start.Add(time.Hour), workflows.RotationInput{Rotation: "ops"}, nil)
	want := []string{"sms +15555550100 out @05-05 09:00: You are off call for ops; Bob has it."}
	if got := lines(w.take(), time.UTC); !slices.Equal(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
	if len(w.state.Warnings) != 1 || !strings.Contains(w.state.Warnings[0], "bob has no verified contact method") {
		t.Fatalf("warnings %q", w.state.Warnings)
	}
}

func TestRotation_EndsWhenTheRotationIsDeleted(t *testing.T) {
	w := newHandoffWorld(t)
	w.users("alice=sms", "bob=sms")
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob"}}})
	next, res := w.run(start.Add(time.Hour), workflows.RotationInput{Rotation: "ops"}, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			if err := w.db.Store.DeleteRotation(context.Background(), "ops"); err != nil {
				t.Error(err)
			}
			env.SignalWorkflow(workflows.SignalRotationReplan, workflows.RotationReplan{Reason: "deleted"})
		}, time.Hour)
	})
	if next != nil || !res.Deleted {
		t.Fatalf("next %+v, result %+v; want the workflow to end", next, res)
	}
	if got := w.take(); len(got) != 0 {
		t.Fatalf("a deleted rotation sent %v", lines(got, time.UTC))
	}
	if w.state.Status != "deleted" {
		t.Errorf("status %q", w.state.Status)
	}
}

func TestRotation_NoReminderWhenTheShiftIsMomentsAway(t *testing.T) {
	w := newHandoffWorld(t)
	w.users("alice=sms", "bob=sms")
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	w.rotation(store.NewRotation{Name: "ops", Reminder: time.Hour,
		Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob"}}})
	now := start.Add(time.Hour)
	alice := "alice"
	next, _ := w.run(now, workflows.RotationInput{Rotation: "ops", After: now, Announced: &alice}, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			// bob covers from 30 seconds from now.
			o := store.NewOverride{User: "bob", Start: now.Add(2*time.Hour + 30*time.Second), End: now.Add(3 * time.Hour)}
			if _, err := w.db.Store.AddOverride(context.Background(), "ops", o, now.Add(2*time.Hour)); err != nil {
				t.Error(err)
			}
			env.SignalWorkflow(workflows.SignalRotationReplan, workflows.RotationReplan{Reason: "override"})
		}, 2*time.Hour)
	})
	if next == nil {
		t.Fatal("no continue-as-new")
	}
	want := []string{
		"sms +15555550100 out @05-04 12:00: You are off call for ops; Bob has it.",
		"sms +15555550101 in @05-04 12:00: You are now on call for ops until Mon 4 May 13:00 UTC.",
	}
	if got := lines(w.take(), time.UTC); !slices.Equal(got, want) {
		t.Fatalf("sent\n%s\nwant no reminder, just the handoff\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// An override added and removed within the second of a handoff must not be
// taken for a repeat of it: each announcement has its own delivery id.
func TestRotation_CorrectionsNeverReuseAHandoffsMessageIDs(t *testing.T) {
	start := time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)
	ctx := context.Background()
	w := newHandoffWorld(t)
	w.users("alice=sms", "bob=sms")
	w.rotation(store.NewRotation{Name: "ops", Spec: oncall.Spec{Timezone: "UTC", ShiftHours: 24, Start: start, Members: []string{"alice", "bob"}}})
	handoff, err := w.acts.HandoffMessages(ctx, activities.HandoffMessagesInput{Rotation: "ops", At: start, Kind: activities.HandoffAnnounce})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range handoff.Messages {
		ids[m.ID] = true
	}
	for _, key := range []string{"run1-12", "run1-19"} {
		// bob was announced by a correction; alice is back, in the same second.
		c, err := w.acts.HandoffMessages(ctx, activities.HandoffMessagesInput{
			Rotation: "ops", At: start, Kind: activities.HandoffCorrection, Outgoing: "bob", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Messages) != 2 {
			t.Fatalf("correction %s: %d messages, want 2", key, len(c.Messages))
		}
		for _, m := range c.Messages {
			if ids[m.ID] {
				t.Errorf("correction %s reuses message id %s", key, m.ID)
			}
			ids[m.ID] = true
		}
	}
}
