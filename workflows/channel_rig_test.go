package workflows_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/providers/twilio"
	"github.com/klaxonhq/klaxon/ratelimit"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

func workflowOpts(name string) workflow.RegisterOptions { return workflow.RegisterOptions{Name: name} }

// Numbers of the channel tests.
const (
	rigPaging      = "+15555550100"
	rigSignup      = "+15555550101"
	rigDiagnostics = "+15555550102"
	rigMaintainer  = "+15555550199"
)

// channelRig runs the channel workflows in the SDK's test environment on
// real activities: a fresh Postgres database and the delivery pipeline
// talking to the phone simulator over HTTP through twilio-go.
type channelRig struct {
	t        *testing.T
	db       *testenv.DB
	sim      *simulator.Simulator
	delivery *activities.Delivery
	channels *activities.Channels
}

func newChannelRig(t *testing.T) *channelRig {
	t.Helper()
	db := testenv.Postgres(t)
	const sid, token = "ACtest00000000000000000000000000bb", "rigtoken0123456789"
	sim := simulator.New(simulator.Config{AccountSID: sid, AuthToken: token})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(func() {
		sim.Close()
		srv.Close()
	})
	tw, err := twilio.New(twilio.Config{AccountSID: sid, AuthToken: token, APIURL: srv.URL, PublicURL: "http://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	r := &channelRig{t: t, db: db, sim: sim}
	r.delivery = &activities.Delivery{
		Store:     db.Store,
		Providers: map[klaxon.Medium]activities.Provider{klaxon.SMS: tw.SMS()},
		From:      map[klaxon.Medium]string{klaxon.SMS: rigPaging},
		Limiter:   ratelimit.New(0),
		Metrics:   metrics.New(),
		Logger:    testenv.Logger(t),
	}
	r.channels = &activities.Channels{
		Store: db.Store, Numbers: tw, Logger: testenv.Logger(t),
		Settings: activities.ChannelSettings{
			Brand: "Klaxon", SignupNumber: rigSignup, DiagnosticsNumber: rigDiagnostics,
			PagingNumber: rigPaging, ReserveSize: 8, Region: "US",
		},
	}
	if err := db.Store.EnsureSystemChannels(context.Background(), rigSignup, rigDiagnostics, []string{rigMaintainer}); err != nil {
		t.Fatal(err)
	}
	return r
}

// env returns a fresh test environment with every channel workflow and
// activity registered under its persisted name.
func (r *channelRig) env() *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	workflows.Register(env, workflows.Deps{Delivery: r.delivery, Channels: r.channels})
	env.RegisterWorkflowWithOptions(workflows.ChannelTextTest, workflowOpts("ChannelTextTest"))
	return env
}

// pool adds n numbers to the reserve pool.
func (r *channelRig) pool(n int) {
	r.t.Helper()
	for i := range n {
		if _, err := r.db.Store.AddNumber(context.Background(), fmt.Sprintf("+1555444%04d", i)); err != nil {
			r.t.Fatal(err)
		}
	}
}

// inbound makes a text durable and returns it as the inbound activity
// hands it to the workflow: without its sender's number or its words.
func (r *channelRig) inbound(sid, from, to, body string) workflows.InboundText {
	r.t.Helper()
	e, _, err := r.db.Store.RecordInbound(context.Background(), store.InboundEvent{
		Kind: store.InboundSMS, DedupKey: sid, From: from, To: to, Body: body,
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return workflows.InboundText{EventID: e.ID, SID: sid, To: to}
}

// resolve is the value behind a reference (or the words behind a body's
// placeholders).
func (r *channelRig) resolve(ref string) string {
	r.t.Helper()
	v, err := r.db.Store.Expand(context.Background(), ref)
	if err != nil {
		r.t.Fatalf("resolve %q: %v", ref, err)
	}
	return v
}

// text runs the channel hook on one text and returns whether it handled it.
func (r *channelRig) text(sid, from, to, body string) bool {
	r.t.Helper()
	env := r.env()
	env.ExecuteWorkflow("ChannelTextTest", r.inbound(sid, from, to, body))
	var handled bool
	if err := env.GetWorkflowResult(&handled); err != nil {
		r.t.Fatalf("channel text %q: %v", body, err)
	}
	return handled
}

// create runs ChannelCreate to its end.
func (r *channelRig) create(in workflows.ChannelCreateInput) workflows.ChannelCreateResult {
	r.t.Helper()
	env := r.env()
	env.ExecuteWorkflow(workflows.WorkflowChannelCreate, in)
	var res workflows.ChannelCreateResult
	if err := env.GetWorkflowResult(&res); err != nil {
		r.t.Fatalf("channel create: %v", err)
	}
	return res
}

// channel makes a channel directly in the store.
func (r *channelRig) channel(number string, admins ...string) store.Channel {
	r.t.Helper()
	ch, err := r.db.Store.CreateChannel(context.Background(), "req-"+number, number, admins)
	if err != nil {
		r.t.Fatal(err)
	}
	return ch
}

// inbox returns the bodies texted to number from from.
func (r *channelRig) inbox(number, from string) []string {
	var out []string
	for _, m := range r.sim.Inbox(number) {
		if from == "" || m.From == from {
			out = append(out, m.Body)
		}
	}
	return out
}

// last returns the last text to number from from, failing when none.
func (r *channelRig) last(number, from string) string {
	r.t.Helper()
	in := r.inbox(number, from)
	if len(in) == 0 {
		r.t.Fatalf("no text to %s from %s; all: %+v", number, from, r.sim.Inbox(number))
	}
	return in[len(in)-1]
}

// noNumbersIn fails when any of numbers appears in body.
func noNumbersIn(t *testing.T, body string, numbers ...string) {
	t.Helper()
	for _, n := range numbers {
		if strings.Contains(body, n) {
			t.Errorf("text %q reveals %s", body, n)
		}
	}
}

// anyArg matches any argument of a mocked activity or workflow.
var anyArg = mock.Anything
