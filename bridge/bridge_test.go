package bridge_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tworker "go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/bridge"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/ratelimit"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fakeNet is a chat network in the test: what people say is put on in,
// what the bot says is recorded while it is connected.
type fakeNet struct {
	in      chan chat.Message
	vouches bool

	mu   sync.Mutex
	up   bool
	said []chat.Outgoing
}

func newFakeNet() *fakeNet { return &fakeNet{in: make(chan chat.Message, 16), up: true} }

func (f *fakeNet) Name() string { return chat.IRC }
func (f *fakeNet) Run(ctx context.Context, handle func(context.Context, chat.Message)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-f.in:
			handle(ctx, m)
		}
	}
}

func (f *fakeNet) Send(_ context.Context, o chat.Outgoing) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.up {
		return "", chat.ErrNotConnected
	}
	f.said = append(f.said, o)
	return "", nil
}

func (f *fakeNet) Connected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.up
}

func (f *fakeNet) Vouches() bool { return f.vouches }

func (f *fakeNet) setUp(up bool) {
	f.mu.Lock()
	f.up = up
	f.mu.Unlock()
}

func (f *fakeNet) lines() []chat.Outgoing {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chat.Outgoing(nil), f.said...)
}

// waitLine waits for a line the bot says that contains want.
func (f *fakeNet) waitLine(t *testing.T, want string) chat.Outgoing {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, o := range f.lines() {
			if strings.Contains(o.Text, want) {
				return o
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("the bot never said %q; it said %+v", want, f.lines())
	return chat.Outgoing{}
}

func (f *fakeNet) say(nick, target, text string) {
	f.in <- chat.Message{Network: chat.IRC, Sender: chat.Sender{Nick: nick}, Target: target,
		Private: !strings.HasPrefix(target, "#"), Text: text, Time: time.Now()}
}

// texts records what the SMS provider was handed.
type texts struct {
	mu  sync.Mutex
	got []klaxon.Message
}

func (p *texts) Send(_ context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, m)
	return klaxon.Receipt{ProviderID: fmt.Sprintf("SM%032d", len(p.got)), Status: klaxon.StatusQueued}, nil
}

func (p *texts) wait(t *testing.T, body string) klaxon.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, m := range p.got {
			if m.Body == body {
				p.mu.Unlock()
				return m
			}
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no text %q reached the provider", body)
	return klaxon.Message{}
}

func (p *texts) waitContains(t *testing.T, part string) klaxon.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, m := range p.got {
			if strings.Contains(m.Body, part) {
				p.mu.Unlock()
				return m
			}
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no text with %q reached the provider", part)
	return klaxon.Message{}
}

type rig struct {
	st    *store.Store
	net   *fakeNet
	texts *texts
	start workflows.Starter
	tc    client.Client
	// stopBridge stops the rig's bridge, as its process dying would.
	stopBridge func()
}

const fromNumber = "+15555550100"

// newRig runs Klaxon's workflows and a bridge holding net, on a fresh
// database and a real Temporal dev server.
func newRig(t *testing.T, trust bool) *rig {
	t.Helper()
	db := testenv.Postgres(t)
	tc := testenv.TemporalClient(t)
	tq := testenv.TaskQueue(t)
	r := &rig{st: db.Store, net: newFakeNet(), texts: &texts{}, start: workflows.Starter{Client: tc, TaskQueue: tq, Brand: "Klaxon"}}
	logger := testenv.Logger(t)
	w := tworker.New(tc, tq, tworker.Options{})
	workflows.Register(w, workflows.Deps{
		Delivery: &activities.Delivery{
			Store: db.Store, Providers: map[klaxon.Medium]activities.Provider{klaxon.SMS: r.texts},
			From: map[klaxon.Medium]string{klaxon.SMS: fromNumber}, Limiter: ratelimit.New(0), Metrics: metrics.New(), Logger: logger,
		},
		Inbound:       &activities.Inbound{Store: db.Store, PagingNumber: fromNumber, Brand: "Klaxon", Logger: logger},
		Paging:        &activities.Paging{Store: db.Store, Temporal: tc, Logger: logger},
		Subscriptions: &activities.Subscriptions{Store: db.Store, Logger: logger},
		Chat: &activities.Chat{Store: db.Store, Networks: []activities.ChatNetwork{{Name: chat.IRC, Team: "#klaxon"}},
			Enqueue: r.start.ChatLine, Logger: logger},
	})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	b := bridge.New(bridge.Deps{Store: db.Store, Temporal: tc, Start: r.start, FromNumber: fromNumber, Logger: logger},
		bridge.Network{Network: r.net, Nick: "klaxon", Team: "#klaxon", TrustNicks: trust})
	r.tc = tc
	r.stopBridge = runBridge(t, b)
	r.person(t, "joe", "Joe Bloggs", "Europe/Paris", "+15555550111")
	r.person(t, "alice", "Alice Liddell", "America/New_York", "+15555550123")
	return r
}

// runBridge runs b until the test ends or the returned stop is called.
func runBridge(t *testing.T, b *bridge.Bridge) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("bridge: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func (r *rig) person(t *testing.T, handle, name, tz, number string) store.User {
	t.Helper()
	ctx := context.Background()
	u, err := r.st.CreateUser(ctx, store.User{Handle: handle, Name: name, Timezone: tz})
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.st.AddContact(ctx, store.Contact{UserID: u.ID, Type: klaxon.SMS, Address: number})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.st.MarkContactVerified(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPoke_TimeInTheirZoneAndLastDigitsInAChannel(t *testing.T) {
	r := newRig(t, true)
	r.net.say("bob", "#klaxon", "klaxon: poke Alice")
	o := r.net.waitLine(t, "bob: alice is Alice Liddell <time:")
	if o.Target != "#klaxon" || !strings.HasSuffix(o.Text, "<mobile:…0123>") {
		t.Fatalf("poke answered %+v", o)
	}
	ny, _ := time.LoadLocation("America/New_York")
	if zone := time.Now().In(ny).Format("MST"); !strings.Contains(o.Text, " "+zone+">") {
		t.Fatalf("poke gave no New York time (%s): %q", zone, o.Text)
	}
	// Privately, to a linked user: the whole number.
	r.net.say("joe", "klaxon", "poke alice")
	o = r.net.waitLine(t, "<mobile:+15555550123>")
	if o.Target != "joe" {
		t.Fatalf("private poke answered in %q", o.Target)
	}
	// Privately, to a stranger: still the last four digits.
	r.net.say("eve", "klaxon", "!poke alice")
	if o := r.net.waitLine(t, "eve: alice is"); !strings.Contains(o.Text, "<mobile:…0123>") {
		t.Fatalf("a stranger saw %q", o.Text)
	}
	r.net.say("bob", "#klaxon", "@poke nobody")
	r.net.waitLine(t, "bob: I know no one called nobody.")
}

func TestSMS_FromALinkedNickReachesThePhone(t *testing.T) {
	r := newRig(t, true)
	r.net.say("joe", "#klaxon", "klaxon: sms alice where are you?")
	m := r.texts.wait(t, "joe> where are you?")
	if m.To != "+15555550123" || m.From != fromNumber {
		t.Fatalf("text went %s → %s", m.From, m.To)
	}
	r.net.waitLine(t, "joe: your text to a\u200blice is on its way.")

	// Unlinked nicks, and unknown commands, get one clear line.
	r.net.say("mallory", "#klaxon", "klaxon, sms alice hi")
	r.net.waitLine(t, "mallory: you are not linked to anyone in Klaxon")
	r.net.say("joe", "#klaxon", "!frobnicate")
	r.net.waitLine(t, `joe: I do not know the command "frobnicate"`)
}

func TestSMS_NoTrustWithoutAccounts(t *testing.T) {
	r := newRig(t, false)
	r.net.say("joe", "#klaxon", "klaxon: sms alice hi")
	r.net.waitLine(t, "joe: this server vouches for no one's nick, so only poke works here.")
}

func TestOutbox_LinesWaitWhileDisconnectedAndArriveInOrderOnce(t *testing.T) {
	r := newRig(t, true)
	r.net.say("bob", "#klaxon", "klaxon: poke joe")
	r.net.waitLine(t, "bob: joe is Joe Bloggs")
	r.net.setUp(false)
	time.Sleep(300 * time.Millisecond) // the worker stops polling
	ctx := context.Background()
	const n = 30
	for i := range n {
		if err := bridge.Say(ctx, r.st, r.start, chat.IRC, chat.Outgoing{Target: "#klaxon", Text: fmt.Sprintf("line %02d", i)},
			fmt.Sprintf("test/%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	for _, o := range r.net.lines() {
		if strings.HasPrefix(o.Text, "line ") {
			t.Fatalf("%q was said while disconnected", o.Text)
		}
	}
	r.net.setUp(true)
	r.net.waitLine(t, fmt.Sprintf("line %02d", n-1))
	time.Sleep(500 * time.Millisecond)
	var got []string
	for _, o := range r.net.lines() {
		if strings.HasPrefix(o.Text, "line ") {
			got = append(got, o.Text)
		}
	}
	if len(got) != n {
		t.Fatalf("said %d lines, want %d once each: %q", len(got), n, got)
	}
	for i, s := range got {
		if s != fmt.Sprintf("line %02d", i) {
			t.Fatalf("line %d is %q: out of order: %q", i, s, got)
		}
	}
}

func TestRelay_TextFromALinkedNumberReachesTheTeamChannel(t *testing.T) {
	r := newRig(t, true)
	ctx := context.Background()
	for i, tc := range []struct{ body, target, text string }{
		{"running late, 5 min", "#klaxon", "[SMS] <a\u200blice> running late, 5 min"},
		{"@joe call me", "joe", "[SMS] <a\u200blice> (privately) call me"},
		{"#ops the disk is full", "#ops", "[SMS] <a\u200blice> the disk is full"},
	} {
		ev, _, err := r.st.RecordInbound(ctx, store.InboundEvent{Kind: store.InboundSMS, DedupKey: fmt.Sprintf("SM%030d", i),
			From: "+15555550123", To: fromNumber, Body: tc.body})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.start.Inbound(ctx, workflows.InboundInput{EventID: ev.ID, DedupKey: ev.DedupKey}); err != nil {
			t.Fatal(err)
		}
		if o := r.net.waitLine(t, tc.text); o.Target != tc.target {
			t.Fatalf("%q went to %q, want %q", tc.text, o.Target, tc.target)
		}
	}
	// A number in no one's entry is not relayed, and is told so.
	ev, _, err := r.st.RecordInbound(ctx, store.InboundEvent{Kind: store.InboundSMS, DedupKey: "SM" + strings.Repeat("9", 30),
		From: "+15555550999", To: fromNumber, Body: "hello?"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.start.Inbound(ctx, workflows.InboundInput{EventID: ev.ID, DedupKey: ev.DedupKey}); err != nil {
		t.Fatal(err)
	}
	r.texts.wait(t, "Sorry, this number is in no one's directory entry, so your text was not relayed to chat.")
}

func TestGetNow_BlastsAndAnnounces(t *testing.T) {
	r := newRig(t, true)
	r.net.say("joe", "#klaxon", "klaxon: get alice now: derp is broken")
	r.net.waitLine(t, "joe: paging a\u200blice now on every channel (page ")
	o := r.net.waitLine(t, "joe needs you in #klaxon now: derp is broken (page ")
	if o.Target != "alice" {
		t.Fatalf("the private line went to %q", o.Target)
	}
	m := r.texts.waitContains(t, "joe needs you in #klaxon now: derp is broken")
	if m.To != "+15555550123" {
		t.Fatalf("the page text went to %s", m.To)
	}
	r.net.waitLine(t, "opened for user:a\u200blice by j\u200boe: joe needs you in #klaxon now: derp is broken")
	id := strings.TrimSuffix(strings.Fields(strings.SplitAfter(o.Text, "(page ")[1])[0], ";")
	r.net.say("joe", "klaxon", "ack "+id)
	r.net.waitLine(t, "joe: page "+id+" acknowledged; every pending notification is canceled.")
	r.net.waitLine(t, "Page "+id+" acknowledged by j\u200boe")
	r.net.say("joe", "#klaxon", "!pages")
	r.net.waitLine(t, "joe: 1 open: "+id+" user:a\u200blice (acked by j\u200boe)")
}

func TestLock_OneHolderAndAStandbyTakesOver(t *testing.T) {
	r := newRig(t, true)
	r.net.say("bob", "#klaxon", "klaxon: poke joe")
	r.net.waitLine(t, "bob: joe is Joe Bloggs")
	standby := newFakeNet()
	runBridge(t, bridge.New(bridge.Deps{Store: r.st, Temporal: r.tc, Start: r.start, FromNumber: fromNumber, Logger: testenv.Logger(t)},
		bridge.Network{Network: standby, Nick: "klaxon", Team: "#klaxon", TrustNicks: true}))
	// While the first holds the connection, the standby says nothing.
	if err := bridge.Say(context.Background(), r.st, r.start, chat.IRC, chat.Outgoing{Target: "#klaxon", Text: "first"}, "test/first"); err != nil {
		t.Fatal(err)
	}
	r.net.waitLine(t, "first")
	if got := standby.lines(); len(got) != 0 {
		t.Fatalf("the standby said %+v while the other held the connection", got)
	}
	r.stopBridge()
	took := time.Now()
	standby.say("bob", "#klaxon", "klaxon: poke alice")
	standby.waitLine(t, "bob: alice is Alice Liddell")
	if d := time.Since(took); d > 10*time.Second {
		t.Fatalf("the standby took %s to take over", d)
	}
}

// TestAnswers_GoInTheThreadTheyWereAskedIn: a line given in a thread (or
// as a reply) is answered in that thread, also when it is answered after a
// restart from its durable record; a line without one is answered in the
// main timeline.
func TestAnswers_GoInTheThreadTheyWereAskedIn(t *testing.T) {
	r := newRig(t, true)
	r.net.in <- chat.Message{Network: chat.IRC, ID: "$asked", Sender: chat.Sender{Nick: "bob"}, Target: "#klaxon",
		Text: "klaxon: poke alice", ThreadOf: "$root", Time: time.Now()}
	if o := r.net.waitLine(t, "bob: alice is Alice Liddell"); o.ThreadOf != "$root" || o.Target != "#klaxon" {
		t.Fatalf("the answer to a line in a thread went to %q, thread %q", o.Target, o.ThreadOf)
	}
	r.net.say("bob", "#klaxon", "klaxon: poke joe")
	if o := r.net.waitLine(t, "bob: joe is Joe Bloggs"); o.ThreadOf != "" {
		t.Fatalf("the answer to a line in the main timeline went in thread %q", o.ThreadOf)
	}

	// A line accepted by a holder that died before answering it keeps its
	// thread for the next holder.
	r.stopBridge()
	in, fresh, err := r.st.RecordChatInbound(context.Background(), store.ChatInbound{Network: chat.IRC, DedupKey: "irc/$unanswered",
		Nick: "eve", Target: "#klaxon", Body: "!poke alice", ThreadOf: "$page"})
	if err != nil || !fresh || in.ThreadOf != "$page" {
		t.Fatalf("record a line in a thread: %+v fresh=%v, %v", in, fresh, err)
	}
	next := newFakeNet()
	runBridge(t, bridge.New(bridge.Deps{Store: r.st, Temporal: r.tc, Start: r.start, FromNumber: fromNumber, Logger: testenv.Logger(t)},
		bridge.Network{Network: next, Nick: "klaxon", Team: "#klaxon", TrustNicks: true}))
	if o := next.waitLine(t, "eve: alice is Alice Liddell"); o.ThreadOf != "$page" {
		t.Fatalf("the answer to a recovered line in a thread went in thread %q", o.ThreadOf)
	}
}
