package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

const (
	alice    = "+15557770001"
	bob      = "+15557770002"
	stranger = "+15557770099"
	chanNum  = "+15556660001"
)

func TestChannelText_UnknownNumberIsNotHandled(t *testing.T) {
	r := newChannelRig(t)
	if r.text("SM1", alice, "+15550000000", "HELP") {
		t.Fatal("a text to no channel was handled")
	}
}

func TestChannelText_RequestAnswersWithTheSeedText(t *testing.T) {
	r := newChannelRig(t)
	if !r.text("SM1", stranger, rigSignup, " request ") {
		t.Fatal("not handled")
	}
	if got := r.last(stranger, rigSignup); got != channel.RequestText("Klaxon", channel.Links{}) {
		t.Fatalf("reply = %q", got)
	}
}

func TestChannelText_ChannelWithBadNumberGetsTheSeedError(t *testing.T) {
	r := newChannelRig(t)
	r.text("SM1", stranger, rigSignup, "CHANNEL ABC")
	want := "'ABC' is not a valid phone number. Phone numbers must include country codes prefixed by a '+'."
	if got := r.last(stranger, rigSignup); got != want {
		t.Fatalf("reply = %q, want %q", got, want)
	}
	r.text("SM2", stranger, rigSignup, "CHANNEL")
	if got := r.last(stranger, rigSignup); got != channel.ChannelFormatText() {
		t.Fatalf("reply to a bare CHANNEL = %q", got)
	}
}

func TestChannelCreate_CreatesWelcomesAndNotifiesCountsOnly(t *testing.T) {
	r := newChannelRig(t)
	r.pool(10)
	res := r.create(workflows.ChannelCreateInput{RequestID: "channel-create/SM1", Requester: alice, Admins: []string{alice, bob}})
	if res.Outcome != workflows.OutcomeCreated || res.Phone == "" {
		t.Fatalf("result = %+v", res)
	}
	if got := r.last(alice, rigSignup); got != channel.CreatedText("Klaxon", res.Phone) {
		t.Errorf("requester's answer = %q", got)
	}
	for _, a := range []string{alice, bob} {
		if got := r.last(a, res.Phone); got != channel.WelcomeAdminText("Klaxon", alice, res.Phone, channel.Links{}) {
			t.Errorf("welcome to %s = %q", a, got)
		}
	}
	maint := r.last(rigMaintainer, rigSignup)
	if maint != "A new channel was just created. There are now `1` active channels." {
		t.Errorf("maintainers got %q", maint)
	}
	noNumbersIn(t, maint, alice, bob)
	if d := r.inbox(rigMaintainer, rigDiagnostics); len(d) != 0 {
		t.Errorf("diagnostics with 9 of 8 numbers left: %q", d)
	}
}

func TestChannelCreate_StrangerRequesterStaysUnknownToAdmins(t *testing.T) {
	r := newChannelRig(t)
	r.pool(10)
	res := r.create(workflows.ChannelCreateInput{RequestID: "channel-create/SM1", Requester: stranger, Admins: []string{alice, bob}})
	got := r.last(alice, res.Phone)
	if got != channel.WelcomeAdminText("Klaxon", "the Klaxon team", res.Phone, channel.Links{}) {
		t.Fatalf("welcome = %q", got)
	}
	noNumbersIn(t, got, stranger, bob)
}

func TestChannelCreate_LowReserveWarnsDiagnostics(t *testing.T) {
	r := newChannelRig(t)
	r.pool(8)
	res := r.create(workflows.ChannelCreateInput{RequestID: "channel-create/api1", Admins: []string{alice, bob}})
	if res.Outcome != workflows.OutcomeCreated {
		t.Fatalf("result = %+v", res)
	}
	want := "New channel created.  \n- `7` available phone numbers \n- `1` active channels "
	if got := r.last(rigMaintainer, rigDiagnostics); got != want {
		t.Fatalf("diagnostics = %q, want %q", got, want)
	}
	// An API request has no requester: the admins learn no maintainer's
	// number either.
	noNumbersIn(t, r.last(alice, res.Phone), rigMaintainer)
}

func TestChannelCreate_NoNumbersRefusesAndTellsDiagnostics(t *testing.T) {
	r := newChannelRig(t)
	res := r.create(workflows.ChannelCreateInput{RequestID: "channel-create/SM1", Requester: alice, Admins: []string{alice, bob}})
	want := "Sorry, Klaxon is not accepting new channel requests at the moment. Please check again later."
	if res.Outcome != workflows.OutcomeNoNumbers || res.Message != want {
		t.Fatalf("result = %+v", res)
	}
	if got := r.last(alice, rigSignup); got != want {
		t.Errorf("requester got %q", got)
	}
	if got := r.last(rigMaintainer, rigDiagnostics); got != "Channel creation failed.\n- `0` available phone numbers   \n- `0` active channels " {
		t.Errorf("diagnostics = %q", got)
	}
	if n := len(r.inbox(bob, "")); n != 0 {
		t.Errorf("bob got %d texts", n)
	}
}

func TestChannelCreate_OurOwnNumberCannotBeAnAdmin(t *testing.T) {
	r := newChannelRig(t)
	r.pool(2)
	res := r.create(workflows.ChannelCreateInput{RequestID: "channel-create/SM1", Requester: alice, Admins: []string{alice, rigSignup}})
	if res.Outcome != workflows.OutcomeRefused || !strings.Contains(res.Message, rigSignup) {
		t.Fatalf("result = %+v", res)
	}
	if avail, _, _ := r.db.Store.PoolCounts(context.Background()); avail != 2 {
		t.Fatalf("a refused request took a number: %d left", avail)
	}
}

func TestChannelCreate_RetriedRequestWelcomesOnce(t *testing.T) {
	r := newChannelRig(t)
	r.pool(3)
	in := workflows.ChannelCreateInput{RequestID: "channel-create/SM1", Requester: alice, Admins: []string{alice, bob}}
	first := r.create(in)
	// The same request again (a crashed worker replaying it from the
	// start): the same channel, and no text sent twice.
	second := r.create(in)
	if first.Phone != second.Phone || first.ChannelID != second.ChannelID {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	if n := len(r.inbox(bob, first.Phone)); n != 1 {
		t.Fatalf("bob got %d welcomes", n)
	}
	if avail, _, _ := r.db.Store.PoolCounts(context.Background()); avail != 2 {
		t.Fatalf("available = %d, want 2", avail)
	}
}

func TestChannelCreate_ProvisioningErrorTellsRequesterAndMaintainers(t *testing.T) {
	r := newChannelRig(t)
	r.pool(2)
	env := r.env()
	env.OnActivity(workflows.ActivityClaimNumber, anyArg, anyArg).Return(activities.ClaimResult{},
		errors.New("pool unreachable for +15557770001"))
	env.ExecuteWorkflow(workflows.WorkflowChannelCreate, workflows.ChannelCreateInput{RequestID: "channel-create/SM1", Requester: alice, Admins: []string{alice, bob}})
	var res workflows.ChannelCreateResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.OutcomeFailed {
		t.Fatalf("result = %+v", res)
	}
	if got := r.last(alice, rigSignup); got != "Sorry, there was an issue while processing your request. Please try again later." {
		t.Errorf("requester got %q", got)
	}
	got := r.last(rigMaintainer, rigDiagnostics)
	if !strings.HasPrefix(got, "Error provisioning a new phone number for channel request: `pool unreachable for ") || !strings.HasSuffix(got, "`") {
		t.Errorf("diagnostics = %q", got)
	}
	noNumbersIn(t, got, alice)
}

func TestChannelText_SadPathsByRoleAndHotline(t *testing.T) {
	r := newChannelRig(t)
	ch := r.channel(chanNum, alice)
	ctx := context.Background()
	if _, _, err := r.db.Store.AddMember(ctx, ch.ID, bob, "subscriber"); err != nil {
		t.Fatal(err)
	}
	sid := 0
	send := func(from, to, body string) {
		sid++
		if !r.text(fmt.Sprintf("SM%d", sid), from, to, body) {
			t.Fatalf("%q not handled", body)
		}
	}
	// CHANNEL to a channel that is not the signup channel.
	send(bob, chanNum, "CHANNEL +15551234567")
	if !strings.HasPrefix(r.last(alice, chanNum), "[HOTLINE @") || !strings.HasSuffix(r.last(alice, chanNum), "] CHANNEL +15551234567") {
		t.Errorf("hotline on, subscriber: admins got %q", r.last(alice, chanNum))
	}
	if got := r.last(bob, chanNum); got != channel.HotlineForwardedText() {
		t.Errorf("subscriber told %q", got)
	}
	send(alice, chanNum, "CHANNEL +15551234567")
	if got := r.last(alice, chanNum); got != channel.NoCommandText() {
		t.Errorf("admin told %q", got)
	}
	send(alice, chanNum, "HOTLINE OFF")
	if got := r.last(alice, chanNum); got != channel.HotlineChangedText(false) {
		t.Errorf("hotline off told %q", got)
	}
	send(stranger, chanNum, "CHANNEL +15551234567")
	if got := r.last(stranger, chanNum); got != channel.DidntUnderstandText() {
		t.Errorf("hotline off, stranger told %q", got)
	}
	send(bob, chanNum, "REQUEST for supplies")
	if got := r.last(bob, chanNum); got != channel.DidntUnderstandText() {
		t.Errorf("hotline off, REQUEST for supplies: %q", got)
	}
	send(alice, chanNum, "hotline on")
	send(stranger, chanNum, "REQUEST for supplies")
	if got := r.last(alice, chanNum); !strings.HasSuffix(got, "] REQUEST for supplies") {
		t.Errorf("REQUEST for supplies not forwarded: %q", got)
	}

	// `REQUEST for supplies` on the signup channel: its hotline is off.
	send(stranger, rigSignup, "REQUEST for supplies")
	if got := r.last(stranger, rigSignup); got != channel.DidntUnderstandText() {
		t.Errorf("signup, hotline off: %q", got)
	}
	send(rigMaintainer, rigSignup, "REQUEST for supplies")
	if got := r.last(rigMaintainer, rigSignup); got != channel.NoCommandText() {
		t.Errorf("signup admin: %q", got)
	}
	send(rigMaintainer, rigSignup, "HOTLINE ON")
	send(stranger, rigSignup, "REQUEST for supplies")
	if got := r.last(rigMaintainer, rigSignup); !strings.HasPrefix(got, "[HOTLINE @") || !strings.HasSuffix(got, "] REQUEST for supplies") {
		t.Errorf("signup hotline on: maintainers got %q", got)
	}
	for _, b := range r.inbox(rigMaintainer, "") {
		noNumbersIn(t, b, stranger, bob, alice)
	}
}

func TestChannelText_HotlineRoundTrip(t *testing.T) {
	r := newChannelRig(t)
	r.channel(chanNum, alice, bob)
	r.text("SM1", stranger, chanNum, "is the march still on?")
	got := r.last(alice, chanNum)
	if !strings.HasPrefix(got, "[HOTLINE @") || !strings.HasSuffix(got, "] is the march still on?") {
		t.Fatalf("admin got %q", got)
	}
	noNumbersIn(t, got, stranger)
	id := strings.TrimPrefix(strings.SplitN(got, "]", 2)[0], "[HOTLINE ")
	if r.last(bob, chanNum) != got {
		t.Errorf("bob got %q", r.last(bob, chanNum))
	}
	// The id is stable for the sender.
	r.text("SM2", stranger, chanNum, "anyone there?")
	if again := r.last(alice, chanNum); again != "[HOTLINE "+id+"] anyone there?" {
		t.Errorf("second message = %q, want id %s", again, id)
	}
	r.text("SM3", alice, chanNum, "REPLY "+id+" yes, noon")
	if got := r.last(stranger, chanNum); got != "[PRIVATE REPLY FROM ADMINS] yes, noon" {
		t.Errorf("sender got %q", got)
	}
	if got := r.last(bob, chanNum); got != "[REPLY TO "+id+"] yes, noon" {
		t.Errorf("other admin got %q", got)
	}
	r.text("SM4", alice, chanNum, "REPLY @zzzz hi")
	if got := r.last(alice, chanNum); got != channel.NoSuchHotlineIDText("@zzzz") {
		t.Errorf("unknown id: %q", got)
	}
}

func TestChannelText_MembershipCommands(t *testing.T) {
	r := newChannelRig(t)
	r.channel(chanNum, alice)
	steps := []struct {
		from, body, to, want string
	}{
		{stranger, "HELP", stranger, channel.HelpText(channel.RoleStranger, false)},
		{stranger, "Info", stranger, channel.InfoText(true)},
		{stranger, "JOIN", stranger, channel.JoinedText()},
		{stranger, "hello", stranger, channel.AlreadyMemberText()},
		{alice, "INFO", alice, channel.InfoAdminText(chanNum, 1, 1, true)},
		{alice, "help", alice, channel.HelpText(channel.RoleAdmin, false)},
		{stranger, "BROADCAST hi all", stranger, channel.AdminOnlyText()},
		{stranger, "goodbye", stranger, channel.LeftText()},
		{stranger, "LEAVE", stranger, channel.NotMemberText()},
		{alice, "LEAVE", alice, channel.LastAdminText()},
		{alice, "ADD " + chanNum, alice, channel.OwnNumberText("Klaxon", chanNum)},
		{alice, "ADD +1 555 777 0002", alice, channel.AddedText(bob)},
		{bob, "", bob, channel.WelcomeAdminText("Klaxon", alice, chanNum, channel.Links{})},
		{alice, "ADD " + bob, alice, channel.AlreadyAdminText(bob)},
		{alice, "REMOVE " + bob, alice, channel.RemovedText(bob)},
		{bob, "", bob, channel.RemovedNoticeText()},
		{alice, "REMOVE " + bob, alice, channel.NotAnAdminText(bob)},
		{alice, "ADD ABC", alice, "'ABC' is not a valid phone number. Phone numbers must include country codes prefixed by a '+'."},
	}
	for i, s := range steps {
		if s.body != "" {
			r.text(fmt.Sprintf("SM%d", i), s.from, chanNum, s.body)
		}
		if got := r.last(s.to, chanNum); got != s.want {
			t.Errorf("step %d (%q from %s): %s got %q, want %q", i, s.body, s.from, s.to, got, s.want)
		}
	}
}

func TestChannelText_StopLeavesAndConfirmsPastTheOptOut(t *testing.T) {
	r := newChannelRig(t)
	ch := r.channel(chanNum, alice)
	ctx := context.Background()
	r.text("SM1", stranger, chanNum, "join")
	if err := r.db.Store.OptOut(ctx, stranger, chanNum, "STOP"); err != nil { // as the backbone does
		t.Fatal(err)
	}
	r.text("SM2", stranger, chanNum, "STOP")
	if got := r.last(stranger, chanNum); got != channel.OptedOutText() {
		t.Fatalf("STOP answered %q", got)
	}
	if role, _ := r.db.Store.RoleOf(ctx, ch.ID, stranger); role != "" {
		t.Fatalf("still a %s after STOP", role)
	}
}

func TestChannelText_DeletedChannel(t *testing.T) {
	r := newChannelRig(t)
	r.channel(chanNum, alice)
	if err := r.db.Store.DeleteChannel(context.Background(), chanNum); err != nil {
		t.Fatal(err)
	}
	if !r.text("SM1", alice, chanNum, "BROADCAST hello") {
		t.Fatal("a deleted channel's text was not handled")
	}
	if got := r.last(alice, chanNum); got != channel.DeletedChannelText("Klaxon") {
		t.Fatalf("got %q", got)
	}
}

func TestBroadcast_EveryMemberOnceInBatches(t *testing.T) {
	r := newChannelRig(t)
	ch := r.channel(chanNum, alice, bob)
	ctx := context.Background()
	const subs = 1203 // three batches and a tail
	var numbers []string
	for i := range subs {
		n := fmt.Sprintf("+1555888%04d", i)
		numbers = append(numbers, n)
		if _, _, err := r.db.Store.AddMember(ctx, ch.ID, n, "subscriber"); err != nil {
			t.Fatal(err)
		}
	}
	env := r.env()
	env.ExecuteWorkflow(workflows.WorkflowBroadcast, workflows.BroadcastInput{
		BroadcastID: "broadcast/SM1", ChannelID: ch.ID, ChannelPhone: chanNum, Text: "march at noon"})
	var res workflows.BroadcastResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Recipients != subs+2 || res.Failed != 0 {
		t.Fatalf("result = %+v", res)
	}
	for _, n := range []string{numbers[0], numbers[600], numbers[subs-1]} {
		if got := r.inbox(n, chanNum); !slices.Equal(got, []string{"march at noon"}) {
			t.Errorf("%s got %q", n, got)
		}
	}
	if got := r.inbox(alice, chanNum); !slices.Equal(got, []string{"[BROADCAST] march at noon"}) {
		t.Errorf("admin got %q", got)
	}
	bs, err := r.db.Store.Broadcasts(ctx, ch.ID, 1)
	if err != nil || len(bs) != 1 || !bs[0].Done || bs[0].Recipients != subs+2 || bs[0].Sent != subs+2 {
		t.Fatalf("progress = %+v, %v", bs, err)
	}
}

func TestChannelText_BroadcastStartsTheBroadcastWorkflow(t *testing.T) {
	r := newChannelRig(t)
	r.channel(chanNum, alice)
	env := r.env()
	var started workflows.BroadcastInput
	var startedID string
	env.OnWorkflow(workflows.WorkflowBroadcast, anyArg, anyArg).Return(workflows.BroadcastResult{}, nil)
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		startedID = info.WorkflowExecution.ID
		_ = args.Get(&started)
	})
	env.ExecuteWorkflow("ChannelTextTest", r.inbound("SM9", alice, chanNum, "! march at noon"))
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if startedID != "broadcast/SM9" || started.BroadcastID != "broadcast/SM9" || r.resolve(started.Text) != "march at noon" || started.ChannelPhone != chanNum {
		t.Fatalf("broadcast started with %+v", started)
	}
	// The broadcast gets the words by reference only.
	if strings.Contains(started.Text, "march") {
		t.Fatalf("the broadcast's input holds the words: %q", started.Text)
	}
}

func TestChannelText_ChannelFloodIsLimitedPerSender(t *testing.T) {
	r := newChannelRig(t)
	var lastIn workflows.ChannelCreateInput
	for i := range activities.ChannelRequestLimit + 1 {
		env := r.env()
		env.OnWorkflow(workflows.WorkflowChannelCreate, anyArg, anyArg).Return(workflows.ChannelCreateResult{}, nil)
		env.SetOnChildWorkflowStartedListener(func(_ *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
			_ = args.Get(&lastIn)
		})
		env.ExecuteWorkflow("ChannelTextTest", r.inbound(fmt.Sprintf("SM%d", i), alice, rigSignup, "CHANNEL +15557770001, +15557770002"))
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
	}
	if lastIn.RequestID != "channel-create/SM2" || r.resolve(klaxon.Placeholder(lastIn.AdminsRef)) != alice+","+bob ||
		r.resolve(klaxon.Placeholder(lastIn.RequesterRef)) != alice {
		t.Fatalf("last started request = %+v", lastIn)
	}
	// The request names admins and requester by reference only.
	if len(lastIn.Admins) != 0 || lastIn.Requester != "" {
		t.Fatalf("the request's input holds numbers: %+v", lastIn)
	}
	if got := r.last(alice, rigSignup); got != channel.TooManyRequestsText() {
		t.Fatalf("flood answered %q", got)
	}
}

func TestChannelText_OurOwnNumbersAreNeverAnsweredNorAdded(t *testing.T) {
	r := newChannelRig(t)
	r.channel(chanNum, alice)
	other := "+15556660002"
	r.channel(other, bob)
	// Another channel's number texting this one (a loop in the making) is
	// ignored.
	if !r.text("SM1", other, chanNum, "hello there") {
		t.Fatal("not handled")
	}
	if got := r.inbox(other, chanNum); len(got) != 0 {
		t.Fatalf("answered our own number: %q", got)
	}
	if got := r.inbox(alice, chanNum); len(got) != 0 {
		t.Fatalf("forwarded our own number's text: %q", got)
	}
	r.text("SM2", alice, chanNum, "ADD "+other)
	if got := r.last(alice, chanNum); got != channel.OwnNumberText("Klaxon", other) {
		t.Fatalf("ADD of another channel's number: %q", got)
	}
}

// The low-reserve warning counts the pool after this request's claim, as
// GET /api/v1/numbers does: from 10 numbers, the second channel leaves 8
// and the third 7, and each warning says so.
func TestChannelCreate_LowReserveCountAgreesWithTheNumbersAPI(t *testing.T) {
	r := newChannelRig(t)
	r.pool(10)
	for i, want := range []int{9, 8, 7} {
		res := r.create(workflows.ChannelCreateInput{RequestID: fmt.Sprintf("channel-create/api%d", i), Admins: []string{alice, bob}})
		if res.Outcome != workflows.OutcomeCreated {
			t.Fatalf("request %d: %+v", i, res)
		}
		ns, err := r.db.Store.ListNumbers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		free := 0
		for _, n := range ns {
			if n.Status == store.NumberAvailable {
				free++
			}
		}
		avail, _, err := r.db.Store.PoolCounts(context.Background())
		if err != nil || free != want || avail != want {
			t.Fatalf("after request %d: %d listed free, %d counted (%v); want %d", i, free, avail, err, want)
		}
		d := r.inbox(rigMaintainer, rigDiagnostics)
		if want > 8 {
			if len(d) != 0 {
				t.Errorf("a warning with %d of 8 numbers left: %q", want, d)
			}
			continue
		}
		text := fmt.Sprintf("New channel created.  \n- `%d` available phone numbers \n- `%d` active channels ", want, i+1)
		if len(d) == 0 || d[len(d)-1] != text {
			t.Errorf("after request %d the diagnostics are %q, want last %q", i, d, text)
		}
	}
}
