package workflows

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/paging"
)

// pageStart is the virtual time every page test starts at.
var pageStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// sentNote is one notification a fake provider accepted.
type sentNote struct {
	At     time.Duration // since pageStart
	ID     string
	Medium klaxon.Medium
	To     string
	Body   string
}

func (s sentNote) String() string { return fmt.Sprintf("%s@%s", s.Medium, s.At) }

// pageRig runs the Page workflow in the SDK's test environment (time
// skipping) against fakes of every activity it uses, which behave like the
// real ones: the store's ack cancels messages not yet accepted, and a send
// that waited for the rate limit re-checks that before it sends.
type pageRig struct {
	t   testing.TB
	env *testsuite.TestWorkflowEnvironment

	mu       sync.Mutex
	people   map[string][]activities.StepPerson // by target
	policies map[string]paging.Policy
	// first, if set, decides the fate of a first attempt; nil error means
	// accepted.
	first func(m klaxon.Message) error
	// queue, if set, is how long (virtual) the retry lane waits for the
	// rate limit.
	queue func(m klaxon.Message) time.Duration
	// refuse, if set, makes the record of an ack or resolution fail (as
	// Postgres refusing it, or gone) when it returns an error.
	refuse func(in activities.PageStatusInput) error

	sent      []sentNote
	begun     map[string]bool
	canceled  map[string]bool
	statuses  []activities.PageStatusInput
	settledAt time.Duration
	events    []paging.Event
	finalized []activities.FinalizeInput
	hangups   int
	// fyis are the page events announced to subscribers; fyiMessages the
	// FYIs each event plans.
	fyis []string
	// askedFYIs counts the workflow asking whether anyone subscribed.
	askedFYIs   int
	fyiMessages []klaxon.Message
	steps       []activities.StepInput
	// early are provider statuses that came back before the provider's id
	// was known, by message id.
	early map[string][]activities.DeliveryStatus
}

func newPageRig(t testing.TB) *pageRig {
	r := &pageRig{
		t: t, env: newTestEnv(),
		people: map[string][]activities.StepPerson{}, policies: map[string]paging.Policy{},
		begun: map[string]bool{}, canceled: map[string]bool{}, settledAt: -1,
	}
	r.env.SetStartTime(pageStart)
	Register(r.env, Deps{})
	reg := func(fn any, name string) { Override(r.env, fn, name) }
	reg(r.sendFirst, ActivitySendFirst)
	reg(r.sendQueued, ActivitySend)
	reg(func(_ context.Context, in activities.FinalizeInput) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.finalized = append(r.finalized, in)
		return nil
	}, ActivityFinalize)
	reg(r.loadPolicy, ActivityPagePolicy)
	reg(r.beginStep, ActivityPageBeginStep)
	reg(func(_ context.Context, in activities.PageEventInput) ([]activities.DeliveryStatus, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, in.Events...)
		return r.early[in.MessageID], nil
	}, ActivityPageRecordEvent)
	reg(r.setStatus, ActivityPageSetStatus)
	reg(func(_ context.Context, in activities.FYIPlanInput) ([]klaxon.Message, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.fyis = append(r.fyis, in.Event)
		var out []klaxon.Message
		for _, m := range r.fyiMessages {
			m.ID += "-" + in.Event
			out = append(out, m)
		}
		return out, nil
	}, ActivityPlanFYIs)
	reg(func(context.Context, string) (bool, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.askedFYIs++
		return len(r.fyiMessages) > 0, nil
	}, ActivityAnyFYIs)
	reg(func(context.Context, activities.HangUpInput) (int, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.hangups++
		return 0, nil
	}, ActivityPageHangUpCalls)
	// The retry lane waits for the rate limit in virtual time.
	r.env.OnActivity(ActivitySend, mock.Anything, mock.Anything).AfterFn(func() time.Duration {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.queueWait()
	}).Return(r.sendQueued).Maybe()
	return r
}

func (r *pageRig) queueWait() time.Duration {
	if r.queue == nil {
		return 0
	}
	return r.queue(klaxon.Message{})
}

// person adds a person reachable through target with the given contacts
// ("sms:+1555...", "voice:+1555...", "email:a@b") and rules.
func (r *pageRig) person(target, handle string, id int64, contacts []string, rules ...paging.NotificationRule) {
	p := activities.StepPerson{UserID: id, Handle: handle, Rules: rules}
	if len(rules) == 0 {
		p.Rules = paging.DefaultNotificationRules()
	}
	for i, c := range contacts {
		m, addr, _ := strings.Cut(c, ":")
		sc := activities.StepContact{ID: id*10 + int64(i), Medium: klaxon.Medium(m), Address: addr}
		if sc.Medium != klaxon.Email {
			sc.Code = 3
		}
		p.Contacts = append(p.Contacts, sc)
	}
	r.people[target] = append(r.people[target], p)
}

func (r *pageRig) now() time.Duration { return r.env.Now().Sub(pageStart) }

func (r *pageRig) accept(m klaxon.Message) (klaxon.Receipt, error) {
	r.sent = append(r.sent, sentNote{At: r.now(), ID: m.ID, Medium: m.Medium, To: m.To, Body: m.Body})
	return klaxon.Receipt{ProviderID: "P" + m.ID, Status: klaxon.StatusQueued}, nil
}

func (r *pageRig) sendFirst(_ context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begun[m.ID] = true
	if r.canceled[m.ID] {
		return klaxon.Receipt{}, temporal.NewNonRetryableApplicationError("message was canceled", activities.ErrTypeCanceled, nil)
	}
	if r.first != nil {
		if err := r.first(m); err != nil {
			return klaxon.Receipt{}, err
		}
	}
	return r.accept(m)
}

// sendQueued is the retry lane after its wait: like the real one, it sends
// nothing that was canceled meanwhile.
func (r *pageRig) sendQueued(_ context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begun[m.ID] = true
	if r.canceled[m.ID] {
		return klaxon.Receipt{}, temporal.NewNonRetryableApplicationError("message was canceled", activities.ErrTypeCanceled, nil)
	}
	return r.accept(m)
}

func (r *pageRig) loadPolicy(_ context.Context, name string) (paging.Policy, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.policies[name]
	if !ok {
		return p, temporal.NewNonRetryableApplicationError("there is no policy "+name, activities.ErrTypeNoPolicy, nil)
	}
	return p, nil
}

func (r *pageRig) beginStep(_ context.Context, in activities.StepInput) (activities.StepPlan, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, in)
	var plan activities.StepPlan
	plan.Events = append(plan.Events, paging.Event{Kind: paging.EventStep})
	for _, t := range in.Targets {
		ps, ok := r.people[t]
		if !ok {
			plan.Skipped = append(plan.Skipped, activities.StepSkip{Target: t, Reason: "unknown"})
			plan.Events = append(plan.Events, paging.Event{Kind: paging.EventSkipped, Detail: t})
			continue
		}
		plan.People = append(plan.People, ps...)
	}
	return plan, nil
}

// setStatus is the store's ack or resolve: it cancels every message that
// was begun and not accepted yet.
func (r *pageRig) setStatus(_ context.Context, in activities.PageStatusInput) (paging.Page, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refuse != nil {
		if err := r.refuse(in); err != nil {
			return paging.Page{}, err
		}
	}
	r.statuses = append(r.statuses, in)
	if r.settledAt < 0 {
		r.settledAt = r.now()
	}
	for id := range r.begun {
		accepted := false
		for _, s := range r.sent {
			accepted = accepted || s.ID == id
		}
		if !accepted {
			r.canceled[id] = true
		}
	}
	return paging.Page{ID: 1, Status: in.Status}, nil
}

// page returns a page input for target.
func page(target string) PageInput {
	return PageInput{PageID: 7, Target: target, Summary: "derp is broken"}
}

// at runs fn at virtual offset d from the start.
func (r *pageRig) at(d time.Duration, fn func()) { r.env.RegisterDelayedCallback(fn, d) }

// update sends an update and returns its outcome through the pointers.
func (r *pageRig) update(name string, a paging.Action, res *paging.ActionResult, rejected *error) {
	r.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) {
			if rejected != nil {
				*rejected = err
			}
		},
		OnComplete: func(v any, err error) {
			if err != nil {
				if rejected != nil {
					*rejected = err
					return
				}
				r.t.Errorf("update %s failed: %v", name, err)
				return
			}
			if res != nil {
				if out, ok := v.(paging.ActionResult); ok {
					*res = out
				}
			}
		},
	}, a)
}

// run executes the page, resolving it at resolveAt unless something else
// did, and returns its result.
func (r *pageRig) run(in PageInput, resolveAt time.Duration) PageResult {
	r.t.Helper()
	r.at(resolveAt, func() {
		if !r.env.IsWorkflowCompleted() {
			r.update(UpdateResolve, paging.Action{By: "test", Via: "api"}, nil, nil)
		}
	})
	r.env.ExecuteWorkflow(WorkflowPage, in)
	if !r.env.IsWorkflowCompleted() {
		r.t.Fatal("page workflow did not complete")
	}
	var res PageResult
	if err := r.env.GetWorkflowResult(&res); err != nil {
		r.t.Fatalf("page workflow: %v", err)
	}
	return res
}

// sentSummary lists the notifications as "medium@offset", in order.
func (r *pageRig) sentSummary() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := append([]sentNote(nil), r.sent...)
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].At != s[j].At {
			return s[i].At < s[j].At
		}
		return s[i].ID < s[j].ID
	})
	out := make([]string, len(s))
	for i, n := range s {
		out[i] = n.String()
	}
	return out
}

// sentTo returns the notifications of one medium, in order.
func (r *pageRig) sentBy(m klaxon.Medium) []sentNote {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sentNote
	for _, s := range r.sent {
		if s.Medium == m {
			out = append(out, s)
		}
	}
	return out
}

func (r *pageRig) eventKinds() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.events))
	for i, e := range r.events {
		out[i] = e.Kind
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
