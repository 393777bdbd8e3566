package matrix

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/store"
)

// Send says out and returns the event id of what was sent. A page's first
// line becomes its message in the room; its later lines thread under that
// message, whose text is edited to the line's Headline. A line of a
// conversation threads under the conversation's first line while the
// conversation is recent. Private lines (Target a user id) go to the room
// the bot shares with that person, made when there is none.
func (n *Network) Send(ctx context.Context, out chat.Outgoing) (string, error) {
	cli, up := n.client()
	if !up {
		return "", fmt.Errorf("matrix send: %w", chat.ErrNotConnected)
	}
	room, err := n.room(ctx, cli, out.Target)
	if err != nil {
		return "", fmt.Errorf("matrix send: %w", err)
	}
	content := n.content(out.Text)
	switch {
	case out.Edit != "":
		content.SetEdit(id.EventID(out.Edit))
	case out.Page != nil:
		return n.sendPageLine(ctx, cli, room, out)
	case out.Conversation != "":
		return n.sendConversation(ctx, cli, room, out)
	case out.ThreadOf != "":
		thread(content, id.EventID(out.ThreadOf))
	}
	return n.send(ctx, cli, room, content)
}

// content is a line as the bot says it: always an m.notice, the message
// type for automated senders, so other bots never answer it (and the bot
// never answers theirs).
func (n *Network) content(text string) *event.MessageEventContent {
	return &event.MessageEventContent{MsgType: event.MsgNotice, Body: text}
}

// thread puts content in root's thread.
func thread(content *event.MessageEventContent, root id.EventID) {
	content.RelatesTo = (&event.RelatesTo{}).SetThread(root, root)
}

// send sends one event, waiting out rate limits; the transaction id is
// kept across those retries, so the homeserver never takes it twice.
func (n *Network) send(ctx context.Context, cli *mautrix.Client, room id.RoomID, content *event.MessageEventContent) (string, error) {
	txn := cli.TxnID()
	var resp *mautrix.RespSendEvent
	err := n.call(ctx, "send", func() (err error) {
		resp, err = cli.SendMessageEvent(ctx, room, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: txn})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("matrix send: %w", err)
	}
	return string(resp.EventID), nil
}

// sendPageLine says a page's event in its thread, and edits the page's
// message to the new headline; the first line of a page is its message.
func (n *Network) sendPageLine(ctx context.Context, cli *mautrix.Client, room id.RoomID, out chat.Outgoing) (string, error) {
	p, err := n.st.MatrixPageByPage(ctx, out.Page.ID)
	if errors.Is(err, klaxon.ErrNotFound) || (err == nil && p.RoomID != string(room)) {
		text := out.Text
		if out.Page.Headline != "" && out.Page.Event == chat.PageOpened {
			text = out.Page.Headline
		}
		ev, err := n.send(ctx, cli, room, n.content(text))
		if err != nil {
			return "", err
		}
		if p.EventID == "" {
			if err := n.st.SetMatrixPage(ctx, store.MatrixPage{PageID: out.Page.ID, RoomID: string(room), EventID: ev}); err != nil {
				return ev, fmt.Errorf("matrix send: %w", err)
			}
		}
		return ev, nil
	}
	if err != nil {
		return "", fmt.Errorf("matrix send: %w", err)
	}
	line := n.content(out.Text)
	thread(line, id.EventID(p.EventID))
	ev, err := n.send(ctx, cli, room, line)
	if err != nil {
		return "", err
	}
	if out.Page.Headline != "" {
		edit := n.content(out.Page.Headline)
		edit.SetEdit(id.EventID(p.EventID))
		if _, err := n.send(ctx, cli, room, edit); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

// sendConversation threads a line under its conversation's first line
// while the conversation is recent, and starts a new one otherwise.
func (n *Network) sendConversation(ctx context.Context, cli *mautrix.Client, room id.RoomID, out chat.Outgoing) (string, error) {
	now := n.now()
	root, err := n.st.MatrixThread(ctx, string(room), out.Conversation, now.Add(-n.cfg.ConversationWindow))
	if err != nil {
		return "", fmt.Errorf("matrix send: %w", err)
	}
	content := n.content(out.Text)
	if root != "" {
		thread(content, id.EventID(root))
	}
	ev, err := n.send(ctx, cli, room, content)
	if err != nil {
		return "", err
	}
	if root == "" {
		root = ev
	}
	if err := n.st.TouchMatrixThread(ctx, string(room), out.Conversation, root, now); err != nil {
		return ev, fmt.Errorf("matrix send: %w", err)
	}
	return ev, nil
}

// room finds the room a target names: "" is the team room, a configured
// name or a room id is that room, an alias is resolved, and a user id is
// the private room the bot shares with that person.
func (n *Network) room(ctx context.Context, cli *mautrix.Client, target string) (id.RoomID, error) {
	if target == "" {
		target = n.TeamRoom()
	}
	n.mu.Lock()
	known, ok := n.names[target]
	n.mu.Unlock()
	switch {
	case ok:
		return known, nil
	case strings.HasPrefix(target, "!"):
		return id.RoomID(target), nil
	case strings.HasPrefix(target, "#"):
		var res *mautrix.RespAliasResolve
		err := n.call(ctx, "resolve alias", func() (err error) { res, err = cli.ResolveAlias(ctx, id.RoomAlias(target)); return err })
		if err != nil {
			return "", fmt.Errorf("room %s: %w", target, err)
		}
		return res.RoomID, nil
	case strings.HasPrefix(target, "@"):
		return n.directRoom(ctx, cli, id.UserID(target))
	}
	return "", fmt.Errorf("room %q: not a room id, alias or user id", target)
}

// directRoom is the private room of the bot and user: the one on record
// while the bot is still in it, else a new one with the user invited.
func (n *Network) directRoom(ctx context.Context, cli *mautrix.Client, user id.UserID) (id.RoomID, error) {
	room, err := n.st.MatrixDirectRoom(ctx, string(user))
	if err != nil && !errors.Is(err, klaxon.ErrNotFound) {
		return "", err
	}
	if room != "" {
		n.mu.Lock()
		ms, tracked := n.members[id.RoomID(room)]
		in := ms[n.self].joined
		n.mu.Unlock()
		if !tracked || in {
			return id.RoomID(room), nil
		}
	}
	var resp *mautrix.RespCreateRoom
	err = n.call(ctx, "create room", func() (err error) {
		resp, err = cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{
			Preset: "trusted_private_chat", IsDirect: true, Invite: []id.UserID{user},
		})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("private room with %s: %w", user, err)
	}
	if err := n.st.SetMatrixDirectRoom(ctx, string(user), string(resp.RoomID)); err != nil {
		return "", err
	}
	n.mu.Lock()
	n.members[resp.RoomID] = map[id.UserID]member{n.self: {joined: true}}
	n.mu.Unlock()
	return resp.RoomID, nil
}
