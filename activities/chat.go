package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/store"
)

// ChatNetwork is what the relay knows of one configured chat network.
type ChatNetwork struct {
	// Name is chat.IRC or chat.Matrix.
	Name string
	// Team is the team channel (or room): where texts go by default.
	Team string
}

// Chat is the SMS ↔ chat bridge's side of the inbound pipeline: texts to
// the paging number that are no reply or command are relayed to chat.
type Chat struct {
	Store *store.Store
	// Networks are the configured chat networks; none means the bridge is
	// off and such texts are answered as before.
	Networks []ChatNetwork
	// Enqueue hands a recorded chat line to its network's outbox.
	Enqueue func(ctx context.Context, network string, lineID int64) error
	Logger  *slog.Logger
}

// Outcomes of RelayText.
const (
	RelayOff      = "off"      // no chat network is configured
	RelayDone     = "relayed"  // the text is on its way to chat
	RelayStranger = "stranger" // the number is in no one's directory entry
	RelayNoTarget = "no-target"
)

// RelayTextResult is how a text was relayed, and the reply to send back
// if any.
type RelayTextResult struct {
	Outcome string
	Reply   string
}

// RelayText relays the text of inbound event eventID to chat: into the
// team channel as "[SMS] <nick> text", or to a chat user ("@nick msg",
// "nick: msg") or another channel ("#channel msg"). The event is loaded
// here (the workflow's payload carries only its id).
func (c *Chat) RelayText(ctx context.Context, eventID int64) (RelayTextResult, error) {
	if c == nil || len(c.Networks) == 0 {
		return RelayTextResult{Outcome: RelayOff}, nil
	}
	ev, err := c.Store.InboundEventByID(ctx, eventID)
	if err != nil {
		return RelayTextResult{}, fmt.Errorf("relay text: %w", err)
	}
	u, err := c.Store.UserOfNumber(ctx, ev.From)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return RelayTextResult{Outcome: RelayStranger,
			Reply: "Sorry, this number is in no one's directory entry, so your text was not relayed to chat."}, nil
	}
	if err != nil {
		return RelayTextResult{}, fmt.Errorf("relay text: %w", err)
	}
	body := strings.TrimSpace(ev.Body)
	for _, n := range c.Networks {
		target, text := n.Team, body
		if t, rest, ok := chatAddressee(body); ok {
			if strings.HasPrefix(t, "#") {
				target, text = t, rest
			} else if user, err := c.Store.UsersByName(ctx, t); err == nil && len(user) == 1 {
				target, text = chatNameOf(user[0], n.Name), rest
			} else if err != nil {
				return RelayTextResult{}, fmt.Errorf("relay text: %w", err)
			}
		}
		if target == "" {
			continue
		}
		line := "[SMS] <" + Unhighlight(u.Nick) + "> " + text
		if target != n.Team && !strings.HasPrefix(target, "#") && !strings.HasPrefix(target, "!") {
			line = "[SMS] <" + Unhighlight(u.Nick) + "> (privately) " + text
		}
		l, _, err := c.Store.AddChatLine(ctx, store.ChatLine{
			Network: n.Name, Target: target, Body: clipRunes(line, 4000), Notice: true,
			DedupKey: fmt.Sprintf("sms/%d/%s", eventID, n.Name),
			// One person's texts to one place are one conversation: on
			// Matrix they thread together while it is recent.
			Conversation: fmt.Sprintf("sms/%d/%s", u.ID, target),
		})
		if err != nil {
			return RelayTextResult{}, fmt.Errorf("relay text: %w", err)
		}
		if err := c.Enqueue(ctx, n.Name, l.ID); err != nil {
			return RelayTextResult{}, fmt.Errorf("relay text: %w", err)
		}
	}
	return RelayTextResult{Outcome: RelayDone}, nil
}

// chatNameOf is how network names u: the Matrix id on Matrix, else the
// nick.
func chatNameOf(u store.User, network string) string {
	if network == chat.Matrix && u.MatrixID != "" {
		return u.MatrixID
	}
	return u.Nick
}

// chatAddressee reads "@nick msg", "nick: msg" and "#channel msg".
func chatAddressee(body string) (to, rest string, ok bool) {
	first, rest, found := strings.Cut(body, " ")
	rest = strings.TrimSpace(rest)
	if !found || rest == "" {
		return "", "", false
	}
	switch {
	case strings.HasPrefix(first, "#") && len(first) > 1:
		return first, rest, true
	case strings.HasPrefix(first, "@") && len(first) > 1:
		return first[1:], rest, true
	case strings.HasSuffix(first, ":") && len(first) > 1 && !strings.ContainsAny(first[:len(first)-1], ":/"):
		return first[:len(first)-1], rest, true
	}
	return "", "", false
}

// Unhighlight puts a zero-width space after a nick's first character, so
// a relayed nick does not highlight its owner in chat clients.
func Unhighlight(nick string) string {
	_, n := utf8.DecodeRuneInString(nick)
	if n == 0 {
		return nick
	}
	return nick[:n] + "\u200b" + nick[n:]
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// ChatSay says one outbox line on a live connection. It runs only on the
// chat network's own task queue, which only the process holding the
// network's connection polls, and only while it is connected.
type ChatSay struct {
	Store   *store.Store
	Network chat.Network
	Logger  *slog.Logger
}

// Error types of ChatSay's failures.
const (
	ErrTypeChatLineGone = "ChatLineGone"
	ErrTypeChatRefused  = "ChatRefused"
)

// Say says line id once: a line already marked sent is not said again.
func (s *ChatSay) Say(ctx context.Context, id int64) error {
	l, err := s.Store.ChatLineByID(ctx, id)
	if klaxon.ErrorCodeOf(err) == klaxon.ENotFound {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("chat line %d is gone", id), ErrTypeChatLineGone, nil)
	}
	if err != nil {
		return fmt.Errorf("say: %w", err)
	}
	if l.SentAt != nil {
		return nil
	}
	out := chat.Outgoing{Target: l.Target, Text: l.Body, Notice: l.Notice, ThreadOf: l.ThreadOf, Conversation: l.Conversation}
	if l.PageID != 0 {
		out.Page = &chat.PageLine{ID: l.PageID, Event: l.PageEvent, Headline: l.Headline}
	}
	stop := heartbeatWhile(ctx)
	nid, err := s.Network.Send(ctx, out)
	stop()
	if err != nil {
		// A connection that dropped is retried for as long as it takes
		// (the worker polls only while connected); a refusal of this line
		// is retried a few times, then given up, so that one bad line
		// cannot hold up the lines behind it.
		if !errors.Is(err, chat.ErrNotConnected) && activity.GetInfo(ctx).Attempt >= chatSayAttempts {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("chat line %d refused: %v", id, err), ErrTypeChatRefused, nil)
		}
		return fmt.Errorf("say line %d: %w", id, err)
	}
	if err := s.Store.MarkChatLineSent(context.WithoutCancel(ctx), id, nid); err != nil {
		// The line left: retrying would say it twice.
		s.Logger.ErrorContext(ctx, "record chat line sent", "line", id, "error", err)
	}
	if l.MessageID != "" {
		// A message of the chat medium: its audit log says it arrived.
		if _, _, err := s.Store.ApplyStatus(context.WithoutCancel(ctx), ChatProviderID(id), klaxon.StatusDelivered, "", ""); err != nil {
			s.Logger.WarnContext(ctx, "record chat message delivered", "line", id, "error", err)
		}
	}
	return nil
}

// heartbeatWhile heartbeats ctx's activity every second until the
// returned stop is called: a line waits its turn under the network's flood
// control or rate limit, which can take a while, yet a process that died
// with a line in hand is noticed within the activity's heartbeat timeout,
// and another process says the line.
func heartbeatWhile(ctx context.Context) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// chatSayAttempts is how often a line the network refuses is tried.
const chatSayAttempts = 10

// ChatProvider is the delivery pipeline's provider of the chat medium: it
// hands a message to its network's outbox (a private line to the nick),
// and the bridge says it once it is connected. The receipt's status is
// queued; ChatSay marks the message delivered when the line has left.
type ChatProvider struct {
	Store   *store.Store
	Network string
	// Enqueue hands a recorded chat line to its network's outbox.
	Enqueue func(ctx context.Context, network string, lineID int64) error
}

// Send records m as a chat line to m.To and hands it to the outbox.
func (p *ChatProvider) Send(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	body := m.Body
	if m.Subject != "" {
		body = m.Subject + ": " + body
	}
	l, _, err := p.Store.AddChatLine(ctx, store.ChatLine{
		Network: p.Network, Target: m.To, Body: clipRunes(body, 4000), DedupKey: "msg/" + m.ID, MessageID: m.ID,
	})
	if err != nil {
		return klaxon.Receipt{}, &klaxon.DeliveryError{Kind: "ChatUnavailable", Reason: "the chat outbox could not be written", Err: err}
	}
	if err := p.Enqueue(ctx, p.Network, l.ID); err != nil {
		return klaxon.Receipt{}, &klaxon.DeliveryError{Kind: "ChatUnavailable", Reason: "the chat outbox is unavailable", Err: err}
	}
	return klaxon.Receipt{ProviderID: ChatProviderID(l.ID), Status: klaxon.StatusQueued}, nil
}

// ChatProviderID is the provider id of a message said as chat line id.
func ChatProviderID(lineID int64) string { return fmt.Sprintf("chat-line-%d", lineID) }
