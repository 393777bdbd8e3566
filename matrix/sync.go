package matrix

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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

// backfillPage is how many events one /messages request of a gap asks
// for.
const backfillPage = 100

// maxCountPages bounds the requests that only count what a gap beyond
// MaxBackfill holds, for the warning.
const maxCountPages = 20

// session is one connection: log in, join the rooms, then sync until an
// error or ctx ends it. The sync position is stored after each response is
// handled, so a restart resumes where the last one stopped: nothing handled
// twice, nothing skipped (a gap longer than a sync's timeline is paged back
// through). The very first start begins at "now": the rooms' history is not
// replayed as commands.
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
	filterID, err := n.filter(ctx, cli, n.cfg.TimelineLimit)
	if err != nil {
		return err
	}
	account := string(cli.UserID)
	since, err := n.st.MatrixNextBatch(ctx, account)
	if err != nil {
		return err
	}
	marks, err := n.st.MatrixRoomMarks(ctx, account)
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
		moved, err := n.process(ctx, cli, resp, nil, marks)
		if err != nil {
			return err
		}
		if err := n.st.SetMatrixPosition(ctx, account, resp.NextBatch, moved); err != nil {
			return err
		}
		maps.Copy(marks, moved)
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
		moved, err := n.process(ctx, cli, resp, handle, marks)
		if err != nil {
			return err
		}
		if err := n.store(ctx, account, resp.NextBatch, moved); err != nil {
			return err
		}
		maps.Copy(marks, moved)
		since = resp.NextBatch
		if timeout == 0 {
			n.setConnected(cli, true)
			n.log.InfoContext(ctx, "matrix connected", "user", account, "team_room", n.TeamRoom())
			timeout = syncTimeout
		}
	}
}

// storeTimeout bounds storing a handled sync's position.
const storeTimeout = 10 * time.Second

// store records the position of a sync whose events were handled. It is
// the commit of that handling, so it is finished even when ctx ends just
// then: else the next start would deliver the same events again.
func (n *Network) store(ctx context.Context, account, next string, marks map[string]string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	return n.st.SetMatrixPosition(ctx, account, next, marks)
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
	// The first start handles nothing said before it; its one event a
	// room is where the bot's position in the room begins.

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
// room. A room whose timeline is limited (more happened since the last
// sync than one sync returns) is first paged back to the newest event seen
// before (its mark in marks), so what was said in the gap is handled too,
// oldest first, before the sync's own events. It returns the rooms' moved
// marks, to be stored with the sync's next_batch; an error leaves the sync
// unhandled, to be asked again from the same position.
func (n *Network) process(ctx context.Context, cli *mautrix.Client, resp *mautrix.RespSync, handle func(context.Context, chat.Message), marks map[string]string) (map[string]string, error) {
	moved := make(map[string]string)
	timelines := make(map[id.RoomID][]*event.Event, len(resp.Rooms.Join))
	for roomID, room := range resp.Rooms.Join {
		evts := room.Timeline.Events
		if len(evts) > 0 {
			moved[string(roomID)] = string(evts[len(evts)-1].ID)
		}
		if handle != nil && room.Timeline.Limited && n.joinedAt(evts) == 0 {
			older, err := n.backfill(ctx, cli, roomID, room.Timeline.PrevBatch, id.EventID(marks[string(roomID)]))
			if err != nil {
				return nil, err
			}
			// The sync's own events come once, whatever a homeserver's
			// tokens overlap.
			older = slices.DeleteFunc(older, func(o *event.Event) bool {
				return slices.ContainsFunc(evts, func(e *event.Event) bool { return e.ID == o.ID })
			})
			evts = append(older, evts...)
		}
		timelines[roomID] = evts
	}
	for roomID, room := range resp.Rooms.Join {
		n.track(roomID, room.State.Events)
		// In a room the bot joined in this batch, only what was said after
		// its join is for it: the history before is not replayed as
		// commands.
		evts := timelines[roomID]
		from := n.joinedAt(evts)
		for i, evt := range evts {
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
	}
	for roomID, room := range resp.Rooms.Invite {
		n.invited(ctx, cli, roomID, room.State.Events)
	}
	for roomID := range resp.Rooms.Leave {
		n.left(ctx, cli, roomID)
	}
	return moved, nil
}

// joinedAt is the index just after the bot's last join among evts, or 0
// when the bot did not join in them.
func (n *Network) joinedAt(evts []*event.Event) int {
	self := n.UserID()
	from := 0
	for i, evt := range evts {
		if evt.Type == event.StateMember && evt.GetStateKey() == self && memberJoin(evt) {
			from = i + 1
		}
	}
	return from
}

// backfill pages a room's gap back from the sync's prev_batch to mark,
// the newest event the bot saw there before, and returns the gap's events
// oldest first, at most MaxBackfill of them: the older rest is counted and
// logged, not handled. It stops at the mark rather than at a `to` token:
// Dendrite 0.13 does not stop /messages at the sync token given as `to`.
// With no mark (a room the bot has no position in) nothing is paged back.
// A homeserver's refusal (a 4xx: the bot may not read that history) is
// logged and what was had is returned; other errors are returned, so the
// sync is asked again.
func (n *Network) backfill(ctx context.Context, cli *mautrix.Client, roomID id.RoomID, from string, mark id.EventID) ([]*event.Event, error) {
	if mark == "" {
		n.log.WarnContext(ctx, "matrix room had more than a sync's worth of events and no stored position: older ones are not handled", "room", roomID)
		return nil, nil
	}
	var got []*event.Event // newest first
	seen := make(map[id.EventID]bool)
	left, counting, reached := 0, 0, false
	for from != "" && !reached && counting < maxCountPages {
		limit := backfillPage
		if rest := n.cfg.MaxBackfill - len(got); rest > 0 {
			limit = min(limit, rest)
		} else {
			counting++
		}
		var resp *mautrix.RespMessages
		err := n.call(ctx, "messages", func() (err error) {
			resp, err = cli.Messages(ctx, roomID, from, "", mautrix.DirectionBackward, nil, limit)
			return err
		})
		var he mautrix.HTTPError
		if errors.As(err, &he) && he.Response != nil && he.Response.StatusCode/100 == 4 {
			n.log.WarnContext(ctx, "matrix gap not paged back: the homeserver refused", "room", roomID, "handled", len(got), "error", err)
			break
		}
		if err != nil {
			return nil, fmt.Errorf("matrix backfill %s: %w", roomID, err)
		}
		for _, evt := range resp.Chunk {
			if evt.ID == mark {
				reached = true
				break
			}
			if seen[evt.ID] {
				continue
			}
			seen[evt.ID] = true
			if len(got) < n.cfg.MaxBackfill {
				got = append(got, evt)
			} else {
				left++
			}
		}
		if len(resp.Chunk) == 0 || resp.End == "" || resp.End == from {
			from = ""
			break
		}
		from = resp.End
	}
	switch {
	case left > 0:
		n.log.WarnContext(ctx, "matrix gap longer than the backfill bound: its oldest events are not handled",
			"room", roomID, "handled", len(got), "not_handled", left, "not_handled_at_least", !reached)
	case !reached:
		n.log.WarnContext(ctx, "matrix gap paged back without reaching the bot's position", "room", roomID, "handled", len(got))
	}
	slices.Reverse(got)
	return got, nil
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
