package matrix

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/chat"
)

// syncTimeout is how long one /sync waits for something to happen.
const syncTimeout = 30 * time.Second

// timelineLimit is how many events of a room one sync returns; a busier
// gap than this is logged (the bot does not page back through history).
const timelineLimit = 200

// session is one connection: log in, join the rooms, then sync until an
// error or ctx ends it. The sync position is stored after each response is
// handled, so a restart resumes where the last one stopped: nothing handled
// twice, nothing skipped. The very first start begins at "now": the rooms'
// history is not replayed as commands.
func (n *Network) session(ctx context.Context, handle func(context.Context, chat.Message)) error {
	cli, err := n.login(ctx)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.self = cli.UserID
	n.mu.Unlock()
	if err := n.joinRooms(ctx, cli); err != nil {
		return err
	}
	filterID, err := n.filter(ctx, cli, timelineLimit)
	if err != nil {
		return err
	}
	account := string(cli.UserID)
	since, err := n.st.MatrixNextBatch(ctx, account)
	if err != nil {
		return err
	}
	if since == "" {
		first, err := n.filter(ctx, cli, 0)
		if err != nil {
			return err
		}
		resp, err := n.sync(ctx, cli, "", first, 0)
		if err != nil {
			return err
		}
		n.process(ctx, cli, resp, nil)
		if err := n.st.SetMatrixNextBatch(ctx, account, resp.NextBatch); err != nil {
			return err
		}
		since = resp.NextBatch
	}
	// A first sync from the stored position fills in the rooms' members
	// (and delivers what arrived while the bot was away) before Send may
	// be used.
	timeout := time.Duration(0)
	for {
		resp, err := n.sync(ctx, cli, since, filterID, timeout)
		if err != nil {
			return err
		}
		n.process(ctx, cli, resp, handle)
		if err := n.st.SetMatrixNextBatch(ctx, account, resp.NextBatch); err != nil {
			return err
		}
		since = resp.NextBatch
		if timeout == 0 {
			n.setConnected(cli, true)
			n.log.InfoContext(ctx, "matrix connected", "user", account, "team_room", n.TeamRoom())
			timeout = syncTimeout
		}
	}
}

func (n *Network) filter(ctx context.Context, cli *mautrix.Client, limit int) (string, error) {
	f := &mautrix.Filter{
		Presence:    &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		Room: &mautrix.RoomFilter{
			Timeline:    &mautrix.FilterPart{Limit: max(limit, 1)},
			Ephemeral:   &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
			AccountData: &mautrix.FilterPart{NotTypes: []event.Type{{Type: "*"}}},
		},
	}
	if limit == 0 {
		// The first start handles nothing said before it.
		f.Room.Timeline = &mautrix.FilterPart{Limit: 1, Types: []event.Type{event.StateMember}}
	}
	var resp *mautrix.RespCreateFilter
	err := n.call(ctx, "filter", func() (err error) { resp, err = cli.CreateFilter(ctx, f); return err })
	if err != nil {
		return "", fmt.Errorf("matrix filter: %w", err)
	}
	return resp.FilterID, nil
}

func (n *Network) sync(ctx context.Context, cli *mautrix.Client, since, filterID string, timeout time.Duration) (*mautrix.RespSync, error) {
	var resp *mautrix.RespSync
	err := n.call(ctx, "sync", func() (err error) {
		resp, err = cli.FullSyncRequest(ctx, mautrix.ReqSync{
			Timeout: int(timeout.Milliseconds()), Since: since, FilterID: filterID, SetPresence: event.PresenceOnline,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("matrix sync: %w", err)
	}
	return resp, nil
}

// process applies one sync response: membership first, then invites and
// departures, then (when handle is set) what people said, in order per
// room.
func (n *Network) process(ctx context.Context, cli *mautrix.Client, resp *mautrix.RespSync, handle func(context.Context, chat.Message)) {
	for roomID, room := range resp.Rooms.Join {
		n.track(roomID, room.State.Events)
		// In a room the bot joined in this batch, only what was said after
		// its join is for it: the history before is not replayed as
		// commands.
		from := 0
		for i, evt := range room.Timeline.Events {
			if evt.Type == event.StateMember && evt.GetStateKey() == n.UserID() && memberJoin(evt) {
				from = i + 1
			}
		}
		for i, evt := range room.Timeline.Events {
			evt.RoomID = roomID
			if evt.StateKey != nil {
				n.track(roomID, []*event.Event{evt})
				continue
			}
			if handle == nil || i < from {
				continue
			}
			if m, ok := n.message(ctx, evt); ok {
				handle(ctx, m)
			}
		}
		if room.Timeline.Limited && handle != nil && from == 0 {
			n.log.WarnContext(ctx, "matrix room had more than a sync's worth of events: older ones are not handled", "room", roomID)
		}
	}
	for roomID, room := range resp.Rooms.Invite {
		n.invited(ctx, cli, roomID, room.State.Events)
	}
	for roomID := range resp.Rooms.Leave {
		n.left(ctx, cli, roomID)
	}
}

// memberJoin reports whether a membership event is a join.
func memberJoin(evt *event.Event) bool {
	evt.Type.Class = event.StateEventType
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return false
	}
	return evt.Content.AsMember().Membership == event.MembershipJoin
}

// track keeps the rooms' membership from their state events.
func (n *Network) track(roomID id.RoomID, evts []*event.Event) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, evt := range evts {
		if evt.Type != event.StateMember || evt.StateKey == nil {
			continue
		}
		evt.Type.Class = event.StateEventType
		if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
			continue
		}
		c := evt.Content.AsMember()
		ms := n.members[roomID]
		if ms == nil {
			ms = make(map[id.UserID]member)
			n.members[roomID] = ms
		}
		user := id.UserID(*evt.StateKey)
		if c.Membership == event.MembershipJoin {
			ms[user] = member{joined: true, display: c.Displayname}
		} else {
			delete(ms, user)
		}
	}
}

// isDirect reports whether roomID is a private room of the bot and one
// other person: not a configured room, and exactly two members joined.
func (n *Network) isDirect(roomID id.RoomID) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.rooms[roomID]; ok {
		return false
	}
	return len(n.members[roomID]) == 2 && n.members[roomID][n.self].joined
}

// message turns a timeline event into what a person said, or false for
// what is not for the bridge: the bot's own events, notices (other bots),
// edits, and rooms that are neither configured nor private.
func (n *Network) message(ctx context.Context, evt *event.Event) (chat.Message, bool) {
	n.mu.Lock()
	self := n.self
	name, configured := n.rooms[evt.RoomID]
	display := n.members[evt.RoomID][evt.Sender].display
	n.mu.Unlock()
	if evt.Sender == self {
		return chat.Message{}, false
	}
	m := chat.Message{
		Network: chat.Matrix,
		ID:      string(evt.ID),
		Sender:  chat.Sender{Nick: string(evt.Sender), Account: string(evt.Sender), Display: display},
		Target:  name,
		Time:    time.UnixMilli(evt.Timestamp),
	}
	if !configured {
		if !n.isDirect(evt.RoomID) {
			return m, false
		}
		m.Private, m.Target = true, string(self)
	}
	evt.Type.Class = event.MessageEventType
	if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
		return m, false
	}
	switch evt.Type {
	case event.EventMessage:
		c := evt.Content.AsMessage()
		if c.MsgType != event.MsgText && c.MsgType != event.MsgEmote {
			return m, false
		}
		if c.RelatesTo != nil && c.RelatesTo.Type == event.RelReplace {
			return m, false
		}
		c.RemoveReplyFallback()
		m.Text = strings.TrimSpace(c.Body)
		if c.RelatesTo != nil {
			if t := c.RelatesTo.GetThreadParent(); t != "" {
				m.ThreadOf = string(t)
			} else if r := c.RelatesTo.GetReplyTo(); r != "" {
				m.ThreadOf = string(r)
			}
		}
	case event.EventReaction:
		c := evt.Content.AsReaction()
		if c.RelatesTo.Type != event.RelAnnotation || c.RelatesTo.EventID == "" {
			return m, false
		}
		m.Reaction = NormalizeReaction(c.RelatesTo.Key)
		m.ThreadOf = string(c.RelatesTo.EventID)
	default:
		return m, false
	}
	if m.ThreadOf != "" {
		p, err := n.st.MatrixPageByEvent(ctx, m.ThreadOf)
		switch {
		case err == nil:
			m.PageID = p.PageID
		case !errors.Is(err, klaxon.ErrNotFound):
			n.log.WarnContext(ctx, "matrix page lookup", "event", m.ThreadOf, "error", err)
		}
	}
	return m, true
}

// NormalizeReaction is a reaction key without variation selectors, so
// "✅" and "✅\uFE0F" are one.
func NormalizeReaction(key string) string {
	return strings.NewReplacer("\uFE0F", "", "\uFE0E", "").Replace(strings.TrimSpace(key))
}

// invited answers an invite: a configured room is joined, and so is a
// private room a person opens with the bot (is_direct); any other invite
// is refused, so nobody can pull the bot into rooms it does not serve.
func (n *Network) invited(ctx context.Context, cli *mautrix.Client, roomID id.RoomID, state []*event.Event) {
	self := id.UserID(n.UserID())
	n.mu.Lock()
	_, configured := n.rooms[roomID]
	n.mu.Unlock()
	var direct bool
	var inviter id.UserID
	for _, evt := range state {
		if evt.Type != event.StateMember || evt.StateKey == nil || id.UserID(*evt.StateKey) != self {
			continue
		}
		evt.Type.Class = event.StateEventType
		if err := evt.Content.ParseRaw(evt.Type); err != nil && !errors.Is(err, event.ErrContentAlreadyParsed) {
			continue
		}
		direct, inviter = evt.Content.AsMember().IsDirect, evt.Sender
	}
	switch {
	case configured || direct:
		err := n.call(ctx, "join", func() error { _, err := cli.JoinRoomByID(ctx, roomID); return err })
		if err != nil {
			n.log.WarnContext(ctx, "matrix join on invite", "room", roomID, "error", err)
			return
		}
		if direct && !configured {
			if err := n.st.SetMatrixDirectRoom(ctx, string(inviter), string(roomID)); err != nil {
				n.log.WarnContext(ctx, "matrix direct room", "room", roomID, "error", err)
			}
		}
		n.log.InfoContext(ctx, "matrix invite accepted", "room", roomID, "direct", direct && !configured)
	default:
		err := n.call(ctx, "refuse invite", func() error {
			_, err := cli.LeaveRoom(ctx, roomID, &mautrix.ReqLeave{Reason: "Klaxon joins only the rooms it is configured for."})
			return err
		})
		if err != nil {
			n.log.WarnContext(ctx, "matrix refuse invite", "room", roomID, "error", err)
		}
		n.log.InfoContext(ctx, "matrix invite refused: not a configured room", "room", roomID, "inviter", inviter)
	}
}

// left forgets a room the bot is no longer in, and rejoins a configured
// one (after a kick).
func (n *Network) left(ctx context.Context, cli *mautrix.Client, roomID id.RoomID) {
	n.mu.Lock()
	delete(n.members, roomID)
	_, configured := n.rooms[roomID]
	n.mu.Unlock()
	if !configured {
		return
	}
	err := n.call(ctx, "rejoin", func() error { _, err := cli.JoinRoomByID(ctx, roomID); return err })
	if err != nil {
		n.log.WarnContext(ctx, "matrix rejoin", "room", roomID, "error", err)
	}
}
