package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/internal/dev/devstack"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// matrixHarness is Klaxon with its Matrix bot in the team room of a real
// Dendrite, and alice's own Matrix client there.
type matrixHarness struct {
	*harness
	hs    *devstack.Dendrite
	alice *mautrix.Client
	room  id.RoomID
	// events are the timeline events alice's client sees.
	events chan *event.Event
}

func newMatrixHarness(t testing.TB) *matrixHarness {
	t.Helper()
	hs := testenv.StartDendrite(t)
	alice := matrixLogin(t, hs, testenv.MatrixAlice)
	ctx := context.Background()
	room, err := alice.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "public_chat", RoomAliasName: "klaxon"})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{Env: map[string]string{
		"KLAXON_MATRIX_HOMESERVER": hs.URL,
		"KLAXON_MATRIX_USER":       testenv.MatrixBot,
		"KLAXON_MATRIX_PASSWORD":   testenv.MatrixBot + testenv.MatrixPasswordSuffix,
		"KLAXON_MATRIX_ROOMS":      "#klaxon:" + hs.ServerName,
	}})
	m := &matrixHarness{harness: h, hs: hs, alice: alice, room: room.RoomID, events: make(chan *event.Event, 1000)}
	h.eventually("the bot in the team room", h.app.matrix.Connected)
	m.watch(t)
	return m
}

func matrixLogin(t testing.TB, hs *devstack.Dendrite, localpart string) *mautrix.Client {
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
	return cli
}

// watch syncs alice's client in the background.
func (m *matrixHarness) watch(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	first, err := m.alice.FullSyncRequest(ctx, mautrix.ReqSync{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		since := first.NextBatch
		for ctx.Err() == nil {
			resp, err := m.alice.FullSyncRequest(ctx, mautrix.ReqSync{Since: since, Timeout: 30000})
			if err != nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			// Like a person's client, alice joins the private rooms the
			// bot invites her to.
			for roomID := range resp.Rooms.Invite {
				_, _ = m.alice.JoinRoomByID(ctx, roomID)
			}
			for roomID, room := range resp.Rooms.Join {
				for _, evt := range room.Timeline.Events {
					evt.RoomID = roomID
					m.events <- evt
				}
			}
			since = resp.NextBatch
		}
	}()
}

// waitEvent returns the first event alice sees that match accepts.
func (m *matrixHarness) waitEvent(t testing.TB, what string, match func(*event.Event, map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.After(30 * time.Second)
	var seen []string
	for {
		select {
		case evt := <-m.events:
			var c map[string]any
			_ = json.Unmarshal(evt.Content.VeryRaw, &c)
			if match(evt, c) {
				return c
			}
			seen = append(seen, fmt.Sprintf("%s %v", evt.Type.Type, c["body"]))
		case <-timeout:
			t.Fatalf("alice waited 30s on Matrix for %s; she saw:\n%s", what, strings.Join(seen, "\n"))
		}
	}
}

// waitEvents waits until alice has seen, in any order, an event each
// matcher accepts.
func (m *matrixHarness) waitEvents(t testing.TB, want map[string]func(*event.Event, map[string]any) bool) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	var seen []string
	for len(want) > 0 {
		select {
		case evt := <-m.events:
			var c map[string]any
			_ = json.Unmarshal(evt.Content.VeryRaw, &c)
			for what, match := range want {
				if match(evt, c) {
					delete(want, what)
					break
				}
			}
			seen = append(seen, fmt.Sprintf("%s %v", evt.Type.Type, c["body"]))
		case <-timeout:
			var missing []string
			for what := range want {
				missing = append(missing, what)
			}
			t.Fatalf("alice waited 30s on Matrix for %s; she saw:\n%s", strings.Join(missing, ", "), strings.Join(seen, "\n"))
		}
	}
}

// pageMessage waits for a page's message in the team room, as the bridge
// announces it, and returns its event id.
func (m *matrixHarness) pageMessage(t testing.TB, pageID int64, summary string) string {
	t.Helper()
	want := chat.Headline(pageID, chat.PageOpened, "", summary)
	var root string
	m.waitEvent(t, "page "+itoa(pageID)+"'s message", func(e *event.Event, c map[string]any) bool {
		if c["body"] == want && c["m.relates_to"] == nil {
			root = string(e.ID)
			return true
		}
		return false
	})
	return root
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// inThread reports whether content c is in root's thread.
func inThread(c map[string]any, root string) bool {
	rel, _ := c["m.relates_to"].(map[string]any)
	return rel["rel_type"] == "m.thread" && rel["event_id"] == root
}

// linkAlice makes alice a Klaxon user with a verified phone, linked to her
// Matrix account.
func (m *matrixHarness) linkAlice(t testing.TB, number string) {
	t.Helper()
	u := pagingPerson(t, m.harness, "alice", number, "")
	aliceID := m.hs.UserID(testenv.MatrixAlice)
	if _, err := m.store.UpdateUser(context.Background(), u.Handle, store.UserPatch{MatrixID: &aliceID}); err != nil {
		t.Fatal(err)
	}
}

func TestE2E_Matrix_PageThreadFillsInAndACheckmarkAcknowledges(t *testing.T) {
	m := newMatrixHarness(t)
	const aliceNumber = "+15555550123"
	ctx := context.Background()
	m.linkAlice(t, aliceNumber)
	m.sim.SetBehaviour(aliceNumber, simulator.Behaviour{Answer: simulator.AnswerNoAnswer})
	pageID, code := m.createPage(t, map[string]any{"target": "user:alice", "summary": "derp is broken", "escalate_after_seconds": 1})
	if code != http.StatusAccepted {
		t.Fatalf("create page: %d", code)
	}
	root := m.pageMessage(t, pageID, "derp is broken")
	m.waitEvent(t, "the text in the page's thread", func(e *event.Event, c map[string]any) bool {
		return inThread(c, root) && c["body"] == "Page "+itoa(pageID)+": texted a\u200blice"
	})
	m.waitEvent(t, "the call in the page's thread", func(e *event.Event, c map[string]any) bool {
		return inThread(c, root) && c["body"] == "Page "+itoa(pageID)+": calling a\u200blice"
	})

	// bob is on the homeserver but no Klaxon user: his ✅ changes nothing.
	bob := matrixLogin(t, m.hs, testenv.MatrixBob)
	if _, err := bob.JoinRoom(ctx, "#klaxon:"+m.hs.ServerName, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.SendReaction(ctx, m.room, id.EventID(root), "✅"); err != nil {
		t.Fatal(err)
	}
	// Answers to a ✅ go in the page's thread, where it was given.
	m.waitEvent(t, "the bot telling bob, in the page's thread, he is not linked", func(e *event.Event, c map[string]any) bool {
		body, _ := c["body"].(string)
		return strings.Contains(body, "you are not linked to anyone in Klaxon") && inThread(c, root)
	})
	if p := m.page(t, pageID); p.Status != paging.StatusOpen {
		t.Fatalf("an unlinked user's ✅ left the page %s", p.Status)
	}

	if _, err := m.alice.SendReaction(ctx, m.room, id.EventID(root), "✅\uFE0F"); err != nil {
		t.Fatal(err)
	}
	p := m.waitPageStatus(t, pageID, paging.StatusAcked)
	if p.AckedBy != "alice" {
		t.Errorf("acked by %q", p.AckedBy)
	}
	// The answer and the page's own ack line arrive in either order.
	m.waitEvents(t, map[string]func(*event.Event, map[string]any) bool{
		"the bot's answer to alice's ✅ in the page's thread": func(e *event.Event, c map[string]any) bool {
			return inThread(c, root) && c["body"] == m.hs.UserID(testenv.MatrixAlice)+": page "+itoa(pageID)+" acknowledged; every pending notification is canceled."
		},
		"the ack in the page's thread": func(e *event.Event, c map[string]any) bool {
			body, _ := c["body"].(string)
			return inThread(c, root) && strings.HasPrefix(body, "Page "+itoa(pageID)+" acknowledged by a\u200blice")
		},
		"the page's message edited to its status": func(e *event.Event, c map[string]any) bool {
			nc, _ := c["m.new_content"].(map[string]any)
			return nc != nil && nc["body"] == "Page "+itoa(pageID)+" [acked by alice]: derp is broken"
		},
	})
}

func TestE2E_Matrix_TextsFromOnePersonThreadInTheTeamRoom(t *testing.T) {
	m := newMatrixHarness(t)
	const aliceNumber = "+15555550123"
	m.linkAlice(t, aliceNumber)
	ctx := context.Background()
	if _, err := m.sim.SendSMS(ctx, aliceNumber, hPagingNumber, "the disk is full"); err != nil {
		t.Fatal(err)
	}
	var first string
	m.waitEvent(t, "the first text in the room", func(e *event.Event, c map[string]any) bool {
		if c["body"] == "[SMS] <a\u200blice> the disk is full" && c["m.relates_to"] == nil && c["msgtype"] == "m.notice" {
			first = string(e.ID)
			return true
		}
		return false
	})
	if _, err := m.sim.SendSMS(ctx, aliceNumber, hPagingNumber, "still full"); err != nil {
		t.Fatal(err)
	}
	m.waitEvent(t, "the second text in the first's thread", func(e *event.Event, c map[string]any) bool {
		return c["body"] == "[SMS] <a\u200blice> still full" && inThread(c, first)
	})

	// A command in the room is answered there.
	if _, err := m.alice.SendText(ctx, m.room, testenv.MatrixBot+": pages"); err != nil {
		t.Fatal(err)
	}
	m.waitEvent(t, "the answer to pages", func(e *event.Event, c map[string]any) bool {
		body, _ := c["body"].(string)
		return c["msgtype"] == "m.notice" && strings.HasPrefix(body, m.hs.UserID(testenv.MatrixAlice)+": ") && c["m.relates_to"] == nil
	})

	// A command in a thread is answered in that thread.
	inFirst := &event.MessageEventContent{MsgType: event.MsgText, Body: testenv.MatrixBot + ": pages"}
	inFirst.RelatesTo = (&event.RelatesTo{}).SetThread(id.EventID(first), id.EventID(first))
	if _, err := m.alice.SendMessageEvent(ctx, m.room, event.EventMessage, inFirst); err != nil {
		t.Fatal(err)
	}
	m.waitEvent(t, "the answer to pages in the thread it was asked in", func(e *event.Event, c map[string]any) bool {
		body, _ := c["body"].(string)
		return inThread(c, first) && strings.HasPrefix(body, m.hs.UserID(testenv.MatrixAlice)+": ")
	})
}

// TestE2E_Matrix_ContactVerifiedByDirectMessageAndABlastReachesIt adds a
// Matrix id as alice's contact method: its code arrives in a private room
// the bot opens with her, the code verifies it, and a blast page then
// reaches her there too.
func TestE2E_Matrix_ContactVerifiedByDirectMessageAndABlastReachesIt(t *testing.T) {
	m := newMatrixHarness(t)
	m.linkAlice(t, "+15555550123")
	aliceID := m.hs.UserID(testenv.MatrixAlice)
	if code := m.api(http.MethodPost, "/api/v1/users/alice/contacts", map[string]string{"type": "matrix", "address": "alice"}, nil); code != http.StatusBadRequest {
		t.Fatalf("a bare name was taken as a Matrix id: %d", code)
	}
	if code := m.api(http.MethodPost, "/api/v1/users/alice/contacts", map[string]string{"type": "matrix", "address": aliceID}, nil); code/100 != 2 {
		t.Fatalf("add matrix contact: %d", code)
	}
	contactID, _ := m.contactOf("alice", aliceID)
	var direct id.RoomID
	c := m.waitEvent(t, "the code in a private room", func(e *event.Event, c map[string]any) bool {
		body, _ := c["body"].(string)
		if e.RoomID != m.room && e.Sender != m.alice.UserID && codePattern.MatchString(body) {
			direct = e.RoomID
			return true
		}
		return false
	})
	if c["msgtype"] != "m.notice" {
		t.Errorf("the code came as %v, not a notice", c["msgtype"])
	}
	code := codePattern.FindString(c["body"].(string))
	if status := m.api(http.MethodPost, fmt.Sprintf("/api/v1/contacts/%d/verify", contactID), map[string]string{"code": code}, nil); status != http.StatusOK {
		t.Fatalf("verify: %d", status)
	}
	if s := m.contactStatus(contactID); s != store.ContactVerified {
		t.Fatalf("contact is %s", s)
	}

	pageID, status := m.createPage(t, map[string]any{"target": "user:alice", "summary": "the database is down", "mode": "blast"})
	if status != http.StatusAccepted {
		t.Fatalf("create page: %d", status)
	}
	m.waitEvent(t, "the blast in the private room", func(e *event.Event, c map[string]any) bool {
		body, _ := c["body"].(string)
		return e.RoomID == direct && strings.Contains(body, "the database is down") && strings.Contains(body, itoa(pageID))
	})
}

// TestE2E_Matrix_AColleaguePagesFromTheRoom is the flow a team lives in:
// bob, in #klaxon, pages alice with a chat command; the page's thread
// fills in as she is texted and called; her ✅ acknowledges it.
func TestE2E_Matrix_AColleaguePagesFromTheRoom(t *testing.T) {
	m := newMatrixHarness(t)
	const aliceNumber = "+15555550123"
	ctx := context.Background()
	m.linkAlice(t, aliceNumber)
	m.sim.SetBehaviour(aliceNumber, simulator.Behaviour{Answer: simulator.AnswerNoAnswer})
	u := pagingPerson(t, m.harness, "bob", "+15555550124", "")
	bobID := m.hs.UserID(testenv.MatrixBob)
	if _, err := m.store.UpdateUser(ctx, u.Handle, store.UserPatch{MatrixID: &bobID}); err != nil {
		t.Fatal(err)
	}
	bob := matrixLogin(t, m.hs, testenv.MatrixBob)
	if _, err := bob.JoinRoom(ctx, "#klaxon:"+m.hs.ServerName, nil); err != nil {
		t.Fatal(err)
	}
	m.eventually("bob in the team room", func() bool {
		members, err := m.alice.JoinedMembers(ctx, m.room)
		_, in := members.Joined[bob.UserID]
		return err == nil && in
	})
	if _, err := bob.SendText(ctx, m.room, "!page alice: the queue is stuck"); err != nil {
		t.Fatal(err)
	}
	var pageID int64
	var root string
	c := m.waitEvent(t, "the page's message in the room", func(e *event.Event, c map[string]any) bool {
		body, _ := c["body"].(string)
		if e.Sender == m.alice.UserID || e.Sender == bob.UserID || c["m.relates_to"] != nil {
			return false
		}
		if _, err := fmt.Sscanf(body, "Page %d", &pageID); err == nil && body == chat.Headline(pageID, chat.PageOpened, "", "the queue is stuck") {
			root = string(e.ID)
			return true
		}
		return false
	})
	if c["msgtype"] != "m.notice" {
		t.Errorf("the page's message is a %v, not a notice", c["msgtype"])
	}
	p, err := m.store.GetPage(ctx, pageID)
	if err != nil || p.Target != "user:alice" || p.RequestedBy != "bob" {
		t.Fatalf("page = %+v, %v; want bob paging user:alice", p, err)
	}
	m.waitEvent(t, "the text in the page's thread", func(e *event.Event, c map[string]any) bool {
		return inThread(c, root) && c["body"] == "Page "+itoa(pageID)+": texted a\u200blice"
	})
	if _, err := m.alice.SendReaction(ctx, m.room, id.EventID(root), "✅"); err != nil {
		t.Fatal(err)
	}
	if p := m.waitPageStatus(t, pageID, paging.StatusAcked); p.AckedBy != "alice" {
		t.Errorf("acked by %q", p.AckedBy)
	}
}
