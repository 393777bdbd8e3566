package matrix

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/internal/dev/devstack"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/paging"
)

// rig is a real homeserver, a database, the team room alice made, and
// alice's own client watching it.
type rig struct {
	t     testing.TB
	hs    *devstack.Dendrite
	db    *testenv.DB
	alice *person
	room  id.RoomID
	alias string
	// timelineLimit and maxBackfill, when set, are the bots' Config.
	timelineLimit, maxBackfill int
}

func newRig(t testing.TB, opts ...testenv.MatrixOptions) *rig {
	t.Helper()
	r := &rig{t: t, hs: testenv.StartDendrite(t, opts...), db: testenv.Postgres(t)}
	r.alice = login(t, r.hs, testenv.MatrixAlice)
	resp, err := r.alice.cli.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{
		Preset: "public_chat", RoomAliasName: "klaxon", Name: "Klaxon team",
	})
	if err != nil {
		t.Fatalf("alice creates the team room: %v", err)
	}
	r.room, r.alias = resp.RoomID, "#klaxon:"+r.hs.ServerName
	return r
}

// bot starts the bot against the rig and waits until it is connected; it
// stops when the test ends (or with the returned stop).
func (r *rig) bot(handle func(context.Context, chat.Message), rooms ...string) (*Network, func()) {
	r.t.Helper()
	if len(rooms) == 0 {
		rooms = []string{r.alias}
	}
	n, err := New(Config{
		Homeserver: r.hs.URL, User: testenv.MatrixBot, Password: testenv.MatrixBot + testenv.MatrixPasswordSuffix,
		Rooms: rooms, TimelineLimit: r.timelineLimit, MaxBackfill: r.maxBackfill,
	}, r.db.Store, testenv.Logger(r.t))
	if err != nil {
		r.t.Fatal(err)
	}
	if handle == nil {
		handle = func(context.Context, chat.Message) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, handle) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				r.t.Errorf("bot run: %v", err)
			}
		})
	}
	r.t.Cleanup(stop)
	deadline := time.Now().Add(60 * time.Second)
	for !n.Connected() {
		if time.Now().After(deadline) {
			r.t.Fatalf("the bot did not connect to %s", r.hs.URL)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return n, stop
}

// person is a second Matrix client, a colleague of the bot's.
type person struct {
	t      testing.TB
	cli    *mautrix.Client
	events chan *event.Event
}

// login logs a test account in and syncs it in the background, every
// timeline event of its rooms going to events.
func login(t testing.TB, hs *devstack.Dendrite, localpart string) *person {
	t.Helper()
	cli, err := mautrix.NewClient(hs.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cli.Login(context.Background(), &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: localpart},
		Password:   localpart + testenv.MatrixPasswordSuffix, StoreCredentials: true,
	})
	if err != nil {
		t.Fatalf("%s logs in: %v", localpart, err)
	}
	p := &person{t: t, cli: cli, events: make(chan *event.Event, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	first, err := cli.FullSyncRequest(ctx, mautrix.ReqSync{})
	if err != nil {
		t.Fatalf("%s syncs: %v", localpart, err)
	}
	go func() {
		defer close(done)
		since := first.NextBatch
		for ctx.Err() == nil {
			resp, err := cli.FullSyncRequest(ctx, mautrix.ReqSync{Since: since, Timeout: 30000})
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			for roomID, room := range resp.Rooms.Join {
				for _, evt := range room.Timeline.Events {
					evt.RoomID = roomID
					p.events <- evt
				}
			}
			for roomID, room := range resp.Rooms.Leave {
				for _, evt := range room.Timeline.Events {
					evt.RoomID = roomID
					p.events <- evt
				}
			}
			since = resp.NextBatch
		}
	}()
	return p
}

// say sends a text message (or any content) into a room.
func (p *person) say(room id.RoomID, content any) id.EventID {
	p.t.Helper()
	if s, ok := content.(string); ok {
		content = &event.MessageEventContent{MsgType: event.MsgText, Body: s}
	}
	resp, err := p.cli.SendMessageEvent(context.Background(), room, event.EventMessage, content)
	if err != nil {
		p.t.Fatalf("say: %v", err)
	}
	return resp.EventID
}

// wait returns the first event seen that match accepts.
func (p *person) wait(what string, match func(*event.Event) bool) *event.Event {
	p.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case evt := <-p.events:
			if match(evt) {
				return evt
			}
		case <-timeout:
			p.t.Fatalf("waited 30s for %s", what)
		}
	}
}

// content decodes an event's raw content.
func content(t testing.TB, evt *event.Event) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(evt.Content.VeryRaw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// inbox collects what the bot delivers.
type inbox struct {
	ch chan chat.Message
}

func newInbox() *inbox { return &inbox{ch: make(chan chat.Message, 100)} }

func (b *inbox) handle(_ context.Context, m chat.Message) { b.ch <- m }

func (b *inbox) next(t testing.TB) chat.Message {
	t.Helper()
	select {
	case m := <-b.ch:
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("the bot delivered nothing in 30s")
		return chat.Message{}
	}
}

// quiet asserts the bot delivers nothing more for a moment.
func (b *inbox) quiet(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case m := <-b.ch:
		t.Fatalf("the bot delivered %q, and should have delivered nothing", m.Text)
	case <-time.After(d):
	}
}

func TestMatrix_LoginJoinSendReceive(t *testing.T) {
	r := newRig(t)
	in := newInbox()
	bot, _ := r.bot(in.handle)
	if bot.UserID() != r.hs.UserID(testenv.MatrixBot) {
		t.Errorf("bot is %s", bot.UserID())
	}

	r.alice.say(r.room, "klaxon: poke bob")
	m := in.next(t)
	want := chat.Message{Network: chat.Matrix, Target: r.alias, Text: "klaxon: poke bob",
		Sender: chat.Sender{Nick: r.hs.UserID("alice"), Account: r.hs.UserID("alice"), Display: "alice"}}
	if m.Network != want.Network || m.Target != want.Target || m.Text != want.Text || m.Sender != want.Sender || m.Private || m.ID == "" {
		t.Errorf("bot got %+v, want %+v", m, want)
	}
	if !bot.Vouches() || bot.Name() != chat.Matrix {
		t.Error("a Matrix network vouches for its senders")
	}

	ev, err := bot.Send(context.Background(), chat.Outgoing{Target: r.alias, Text: "bob is Bob <time:…>", Notice: true})
	if err != nil {
		t.Fatal(err)
	}
	got := r.alice.wait("the bot's notice", func(e *event.Event) bool { return e.ID == id.EventID(ev) })
	if c := content(t, got); c["msgtype"] != "m.notice" || c["body"] != "bob is Bob <time:…>" {
		t.Errorf("alice saw %v", c)
	}

	// Other bots' notices are not commands.
	r.alice.say(r.room, &event.MessageEventContent{MsgType: event.MsgNotice, Body: "klaxon: pages"})
	in.quiet(t, 300*time.Millisecond)
}

func TestMatrix_RestartNeitherReplaysNorSkips(t *testing.T) {
	r := newRig(t)
	r.alice.say(r.room, "said before the bot ever came")

	in := newInbox()
	_, stop := r.bot(in.handle)
	r.alice.say(r.room, "one")
	if m := in.next(t); m.Text != "one" {
		t.Fatalf("first start: bot got %q, want only what was said after it came", m.Text)
	}
	stop()
	next, err := r.db.Store.MatrixNextBatch(context.Background(), r.hs.UserID(testenv.MatrixBot))
	if err != nil || next == "" {
		t.Fatalf("next_batch after a sync: %q, %v", next, err)
	}

	r.alice.say(r.room, "two, while the bot was away")
	r.alice.say(r.room, "three, while the bot was away")
	in2 := newInbox()
	r.bot(in2.handle)
	r.alice.say(r.room, "four")
	for _, want := range []string{"two, while the bot was away", "three, while the bot was away", "four"} {
		if m := in2.next(t); m.Text != want {
			t.Fatalf("after a restart the bot got %q, want %q", m.Text, want)
		}
	}
	in2.quiet(t, 300*time.Millisecond)
	in.quiet(t, 0)
}

// TestMatrix_GapLongerThanASyncIsPagedBack stops the bot, has more said
// than one sync returns (bob joining and speaking among it), and restarts
// it: every line is delivered once, in order, with its sender's name.
func TestMatrix_GapLongerThanASyncIsPagedBack(t *testing.T) {
	r := newRig(t)
	r.timelineLimit = 5
	in := newInbox()
	_, stop := r.bot(in.handle)
	r.alice.say(r.room, "before")
	if m := in.next(t); m.Text != "before" {
		t.Fatalf("bot got %q", m.Text)
	}
	stop()

	bob := login(t, r.hs, testenv.MatrixBob)
	var want []string
	for i := range 23 {
		if i == 11 {
			if _, err := bob.cli.JoinRoomByID(context.Background(), r.room); err != nil {
				t.Fatal(err)
			}
			bob.say(r.room, "bob here")
			want = append(want, "bob here")
		}
		text := fmt.Sprintf("while the bot was away %d", i)
		r.alice.say(r.room, text)
		want = append(want, text)
	}
	in2 := newInbox()
	r.bot(in2.handle)
	r.alice.say(r.room, "after")
	want = append(want, "after")
	for _, w := range want {
		m := in2.next(t)
		if m.Text != w {
			t.Fatalf("after the gap the bot got %q, want %q", m.Text, w)
		}
		if w == "bob here" && (m.Sender.Account != r.hs.UserID("bob") || m.Sender.Display != "bob") {
			t.Errorf("bob's line in the gap came from %+v", m.Sender)
		}
	}
	in2.quiet(t, 500*time.Millisecond)
}

// TestMatrix_GapBeyondTheBackfillBoundKeepsTheNewest: a gap longer than
// MaxBackfill delivers its newest events (the bound and a sync's worth),
// in order, and no older one.
func TestMatrix_GapBeyondTheBackfillBoundKeepsTheNewest(t *testing.T) {
	r := newRig(t)
	r.timelineLimit, r.maxBackfill = 5, 8
	in := newInbox()
	_, stop := r.bot(in.handle)
	stop()
	for i := range 30 {
		r.alice.say(r.room, fmt.Sprintf("line %d", i))
	}
	in2 := newInbox()
	r.bot(in2.handle)
	for i := 30 - 8 - 5; i < 30; i++ {
		if m := in2.next(t); m.Text != fmt.Sprintf("line %d", i) {
			t.Fatalf("bot got %q, want line %d", m.Text, i)
		}
	}
	in2.quiet(t, 500*time.Millisecond)
	in.quiet(t, 0)
}

// TestMatrix_GapWithoutAStoredPositionReplaysNothing: a bot whose rooms
// have no stored mark (its position was stored before marks were kept)
// handles only the sync's own events after a long gap: it cannot tell
// where its position is in the room's history, and replays none of it.
func TestMatrix_GapWithoutAStoredPositionReplaysNothing(t *testing.T) {
	r := newRig(t)
	r.timelineLimit = 5
	in := newInbox()
	_, stop := r.bot(in.handle)
	r.alice.say(r.room, "before")
	if m := in.next(t); m.Text != "before" {
		t.Fatalf("bot got %q", m.Text)
	}
	stop()
	if _, err := r.db.Pool.Exec(context.Background(), `DELETE FROM matrix_room_marks`); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		r.alice.say(r.room, fmt.Sprintf("line %d", i))
	}
	in2 := newInbox()
	r.bot(in2.handle)
	for i := 12 - 5; i < 12; i++ {
		if m := in2.next(t); m.Text != fmt.Sprintf("line %d", i) {
			t.Fatalf("bot got %q, want line %d", m.Text, i)
		}
	}
	in2.quiet(t, 500*time.Millisecond)
}

func TestMatrix_InvitesOnlyToConfiguredRooms(t *testing.T) {
	r := newRig(t)
	in := newInbox()
	bot, _ := r.bot(in.handle)
	ctx := context.Background()
	botID := id.UserID(bot.UserID())

	other, err := r.alice.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "elsewhere", Invite: []id.UserID{botID}})
	if err != nil {
		t.Fatal(err)
	}
	r.alice.wait("the bot refusing the invite", func(e *event.Event) bool {
		return e.RoomID == other.RoomID && e.Type == event.StateMember && e.GetStateKey() == string(botID) &&
			content(t, e)["membership"] == "leave"
	})
	r.alice.say(other.RoomID, "klaxon: pages")
	in.quiet(t, 300*time.Millisecond)

	// A private room a person opens with the bot is joined: it is where
	// private messages go, both ways.
	dm, err := r.alice.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{botID}})
	if err != nil {
		t.Fatal(err)
	}
	r.alice.wait("the bot joining the private room", func(e *event.Event) bool {
		return e.RoomID == dm.RoomID && e.Type == event.StateMember && e.GetStateKey() == string(botID) &&
			content(t, e)["membership"] == "join"
	})
	r.alice.say(dm.RoomID, "poke bob")
	m := in.next(t)
	if !m.Private || m.Target != bot.UserID() || m.Text != "poke bob" {
		t.Errorf("private message delivered as %+v", m)
	}
	ev, err := bot.Send(ctx, chat.Outgoing{Target: m.Sender.Nick, Text: "bob is Bob", Notice: true})
	if err != nil {
		t.Fatal(err)
	}
	got := r.alice.wait("the private answer", func(e *event.Event) bool { return e.ID == id.EventID(ev) })
	if got.RoomID != dm.RoomID {
		t.Errorf("the answer went to %s, not the private room %s", got.RoomID, dm.RoomID)
	}
}

func TestMatrix_PrivateMessageToSomeoneNewOpensARoom(t *testing.T) {
	r := newRig(t)
	bot, _ := r.bot(nil)
	bob := login(t, r.hs, testenv.MatrixBob)
	ev, err := bot.Send(context.Background(), chat.Outgoing{Target: r.hs.UserID("bob"), Text: "alice> where are you?"})
	if err != nil {
		t.Fatal(err)
	}
	room, err := r.db.Store.MatrixDirectRoom(context.Background(), r.hs.UserID("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.cli.JoinRoomByID(context.Background(), id.RoomID(room)); err != nil {
		t.Fatal(err)
	}
	got := bob.wait("the private line", func(e *event.Event) bool { return e.ID == id.EventID(ev) })
	if content(t, got)["body"] != "alice> where are you?" {
		t.Errorf("bob saw %v", content(t, got))
	}
	again, err := bot.Send(context.Background(), chat.Outgoing{Target: r.hs.UserID("bob"), Text: "again"})
	if err != nil {
		t.Fatal(err)
	}
	if got := bob.wait("the second line", func(e *event.Event) bool { return e.ID == id.EventID(again) }); string(got.RoomID) != room {
		t.Errorf("a second private line went to %s, not %s", got.RoomID, room)
	}
}

func TestMatrix_PageThreadEditAndReaction(t *testing.T) {
	r := newRig(t)
	in := newInbox()
	bot, _ := r.bot(in.handle)
	ctx := context.Background()
	pg, _, err := r.db.Store.CreatePage(ctx, paging.Page{Target: "user:alice", Summary: "derp is broken"})
	if err != nil {
		t.Fatal(err)
	}

	root, err := bot.Send(ctx, chat.Outgoing{Text: "Page 1 opened for alice: derp is broken", Notice: true,
		Page: &chat.PageLine{ID: pg.ID, Event: chat.PageOpened, Headline: "Page 1 [open]: derp is broken"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := content(t, r.alice.wait("the page's message", func(e *event.Event) bool { return e.ID == id.EventID(root) })); c["body"] != "Page 1 [open]: derp is broken" {
		t.Errorf("page message %v", c)
	}
	line, err := bot.Send(ctx, chat.Outgoing{Text: "alice acknowledged page 1 (sms)", Notice: true,
		Page: &chat.PageLine{ID: pg.ID, Event: chat.PageAcked, Headline: "Page 1 [acked by alice]: derp is broken"}})
	if err != nil {
		t.Fatal(err)
	}
	got := r.alice.wait("the page's ack in its thread", func(e *event.Event) bool { return e.ID == id.EventID(line) })
	rel, _ := content(t, got)["m.relates_to"].(map[string]any)
	if rel["rel_type"] != "m.thread" || rel["event_id"] != root {
		t.Errorf("the ack line is not in the page's thread: %v", content(t, got))
	}
	edit := r.alice.wait("the page's message edited", func(e *event.Event) bool {
		rel, _ := content(t, e)["m.relates_to"].(map[string]any)
		return rel["rel_type"] == "m.replace" && rel["event_id"] == root
	})
	if nc, _ := content(t, edit)["m.new_content"].(map[string]any); nc["body"] != "Page 1 [acked by alice]: derp is broken" {
		t.Errorf("edit %v", content(t, edit))
	}

	// A ✅ (with its emoji variation selector, as clients send it) on the
	// page's message is delivered as a reaction to that page; so is a
	// reply in its thread.
	if _, err := r.alice.cli.SendReaction(ctx, r.room, id.EventID(root), "\u2705\uFE0F"); err != nil {
		t.Fatal(err)
	}
	m := in.next(t)
	if m.Reaction != chat.ReactionAck || m.ThreadOf != root || m.PageID != pg.ID || m.Text != "" {
		t.Errorf("reaction delivered as %+v", m)
	}
	reply := &event.MessageEventContent{MsgType: event.MsgText, Body: "on it"}
	reply.RelatesTo = (&event.RelatesTo{}).SetThread(id.EventID(root), id.EventID(root))
	r.alice.say(r.room, reply)
	if m := in.next(t); m.Text != "on it" || m.PageID != pg.ID || m.ThreadOf != root {
		t.Errorf("thread reply delivered as %+v", m)
	}
}

func TestMatrix_ConversationsThreadWithinTheirWindow(t *testing.T) {
	r := newRig(t)
	bot, _ := r.bot(nil)
	ctx := context.Background()
	clock := time.Now()
	bot.now = func() time.Time { return clock }

	say := func(text string) map[string]any {
		ev, err := bot.Send(ctx, chat.Outgoing{Text: text, Notice: true, Conversation: "sms:alice"})
		if err != nil {
			t.Fatal(err)
		}
		return content(t, r.alice.wait(text, func(e *event.Event) bool { return e.ID == id.EventID(ev) }))
	}
	first, err := bot.Send(ctx, chat.Outgoing{Text: "[SMS] <alice> the disk is full", Notice: true, Conversation: "sms:alice"})
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(9 * time.Minute)
	if rel, _ := say("[SMS] <alice> still full")["m.relates_to"].(map[string]any); rel["rel_type"] != "m.thread" || rel["event_id"] != first {
		t.Errorf("a text within the window is not in the conversation's thread: %v", rel)
	}
	clock = clock.Add(9 * time.Minute)
	if rel, _ := say("[SMS] <alice> and now?")["m.relates_to"].(map[string]any); rel["event_id"] != first {
		t.Errorf("the window runs from the conversation's last text: %v", rel)
	}
	clock = clock.Add(11 * time.Minute)
	if c := say("[SMS] <alice> new problem"); c["m.relates_to"] != nil {
		t.Errorf("a text after the window starts a new conversation: %v", c)
	}
}

func TestMatrix_InviteOnlyConfiguredRoomJoinedOnInviteWithoutHistory(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	ops, err := r.alice.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Name: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	r.alice.say(ops.RoomID, "klaxon: said before the bot was invited")
	in := newInbox()
	bot, _ := r.bot(in.handle, r.alias, string(ops.RoomID))
	if _, err := r.alice.cli.InviteUser(ctx, ops.RoomID, &mautrix.ReqInviteUser{UserID: id.UserID(bot.UserID())}); err != nil {
		t.Fatal(err)
	}
	r.alice.wait("the bot joining on invite", func(e *event.Event) bool {
		return e.RoomID == ops.RoomID && e.Type == event.StateMember && e.GetStateKey() == bot.UserID() &&
			content(t, e)["membership"] == "join"
	})
	r.alice.say(ops.RoomID, "klaxon: pages")
	if m := in.next(t); m.Text != "klaxon: pages" || m.Target != string(ops.RoomID) || m.Private {
		t.Errorf("bot got %+v, want only what was said after it joined", m)
	}
}

// TestMatrix_RateLimitedHomeserverIsWaitedOut runs Dendrite with its rate
// limiting on (it limits joins, not sends): the bot joining four rooms at
// once is told M_LIMIT_EXCEEDED with a retry_after_ms, waits that out, and
// ends up in every room.
func TestMatrix_RateLimitedHomeserverIsWaitedOut(t *testing.T) {
	const cooloff = 300 * time.Millisecond
	r := newRig(t, testenv.MatrixOptions{RateLimit: true, Threshold: 1, Cooloff: cooloff})
	rooms := []string{r.alias}
	for _, name := range []string{"ops", "dev", "db"} {
		time.Sleep(cooloff + 50*time.Millisecond)
		if _, err := r.alice.cli.CreateRoom(context.Background(), &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: name}); err != nil {
			t.Fatal(err)
		}
		rooms = append(rooms, "#"+name+":"+r.hs.ServerName)
	}
	bot, _ := r.bot(nil, rooms...)
	if bot.rateLimited.Load() == 0 {
		t.Fatal("the homeserver never limited the bot: the test proves nothing")
	}
	for _, room := range rooms {
		ev, err := bot.Send(context.Background(), chat.Outgoing{Target: room, Text: "here", Notice: true})
		if err != nil {
			t.Fatalf("send to %s: %v", room, err)
		}
		r.alice.wait("the bot's line in "+room, func(e *event.Event) bool { return e.ID == id.EventID(ev) })
	}
}
