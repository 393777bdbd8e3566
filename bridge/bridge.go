// Package bridge is the SMS ↔ chat bridge: it holds each chat network's
// connection (in exactly one Klaxon process, by a Postgres advisory lock),
// answers the commands people give the bot (poke, sms, get, page, ack,
// resolve, pages, oncall) through the same store, pager and Starter the
// API uses, says every outbound line through Temporal (each network's
// outbox workflow, whose activities only the connected bot polls), and
// announces page events in the team channel.
package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
	tworker "go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// Network is one chat network the bridge holds, and how it is set up.
type Network struct {
	chat.Network
	// Nick is the bot's name on the network ("klaxon"), for commands
	// written "klaxon: CMD"; a Network that knows its current nick (a
	// fallback taken while the wanted one is in use) says so through
	// interface{ Nick() string }.
	Nick string
	// Team is the team channel: texts and page events go there.
	Team string
	// TrustNicks lets a nick alone identify a linked user where the
	// network vouches for no one.
	TrustNicks bool
}

// Deps are what the bridge works with.
type Deps struct {
	Store    *store.Store
	Temporal client.Client
	Start    workflows.Starter
	// FromNumber is KLAXON_FROM_NUMBER: texts from chat are sent from it.
	FromNumber string
	Logger     *slog.Logger
	Clock      klaxon.Clock
}

// Bridge holds its networks' connections while it has their locks.
type Bridge struct {
	d    Deps
	nets []Network
	// Tunables (tests shorten them).
	lockRetry, lockCheck, connPoll, announceEvery time.Duration
}

// New returns a bridge for nets.
func New(d Deps, nets ...Network) *Bridge {
	if d.Clock == nil {
		d.Clock = klaxon.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Bridge{d: d, nets: nets,
		lockRetry: 2 * time.Second, lockCheck: 2 * time.Second, connPoll: 100 * time.Millisecond, announceEvery: time.Second}
}

// Run holds each network's connection whenever this process can take its
// lock, until ctx ends: a standby process waits on the lock and takes over
// within seconds of the holder's death (Postgres frees a dead session's
// lock). It returns nil when ctx ends.
func (b *Bridge) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for i := range b.nets {
		n := &b.nets[i]
		g.Go(func() error { return b.runNetwork(gctx, n) })
	}
	return g.Wait()
}

// lockKey names a network's connection lock: one per task queue (one
// deployment) and network.
func (b *Bridge) lockKey(n *Network) string {
	return "klaxon-chat/" + b.d.Start.TaskQueue + "/" + n.Name()
}

func (b *Bridge) runNetwork(ctx context.Context, n *Network) error {
	log := b.d.Logger.With("network", n.Name())
	waiting := false
	for {
		lock, ok, err := b.d.Store.TryLock(ctx, b.lockKey(n))
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			log.Warn("chat connection lock not taken", "error", err)
		case !ok:
			if !waiting {
				log.Info("another process holds the chat connection; standing by")
				waiting = true
			}
		default:
			waiting = false
			log.Info("holding the chat connection")
			err := b.hold(ctx, n, lock)
			lock.Release(context.WithoutCancel(ctx))
			if ctx.Err() != nil {
				return nil
			}
			log.Warn("chat connection let go", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(b.lockRetry):
		}
	}
}

// errLockLost stops a hold whose lock connection died.
var errLockLost = errors.New("the chat connection lock was lost")

// hold runs a network's connection while lock is held: the network
// itself, its outbox worker while connected, the commands people give,
// and the page-event announcer.
func (b *Bridge) hold(ctx context.Context, n *Network, lock *store.Lock) error {
	g, gctx := errgroup.WithContext(ctx)
	lines := make(chan chat.Message, 256)
	g.Go(func() error {
		err := n.Run(gctx, func(ctx context.Context, m chat.Message) {
			select {
			case lines <- m:
			case <-ctx.Done():
			}
		})
		if gctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s network stopped: %w", n.Name(), err)
	})
	g.Go(func() error {
		t := time.NewTicker(b.lockCheck)
		defer t.Stop()
		for {
			select {
			case <-gctx.Done():
				return nil
			case <-t.C:
				cctx, cancel := context.WithTimeout(gctx, b.lockCheck)
				err := lock.Check(cctx)
				cancel()
				if err != nil && gctx.Err() == nil {
					return fmt.Errorf("%w: %w", errLockLost, err)
				}
			}
		}
	})
	g.Go(func() error { return b.outboxWorker(gctx, n) })
	g.Go(func() error {
		b.recover(gctx, n)
		for {
			select {
			case <-gctx.Done():
				return nil
			case m := <-lines:
				b.receive(gctx, n, m)
			}
		}
	})
	g.Go(func() error { return b.announce(gctx, n) })
	return g.Wait()
}

// outboxWorker polls the network's own task queue while the connection is
// up, and only then: lines wait in Temporal while the bot is away and are
// said, in order, as soon as it is back.
func (b *Bridge) outboxWorker(ctx context.Context, n *Network) error {
	var w tworker.Worker
	stop := func() {
		if w != nil {
			w.Stop()
			w = nil
		}
	}
	defer stop()
	t := time.NewTicker(b.connPoll)
	defer t.Stop()
	for {
		switch up := n.Connected(); {
		case up && w == nil:
			w = tworker.New(b.d.Temporal, workflows.ChatTaskQueue(b.d.Start.TaskQueue, n.Name()), tworker.Options{
				// One line at a time: the outbox says them in order anyway.
				MaxConcurrentActivityExecutionSize: 1,
				DisableWorkflowWorker:              true,
			})
			workflows.RegisterChatSay(w, &activities.ChatSay{Store: b.d.Store, Network: n.Network, Logger: b.d.Logger})
			if err := w.Start(); err != nil {
				w = nil
				b.d.Logger.Error("chat outbox worker not started", "network", n.Name(), "error", err)
			}
		case !up && w != nil:
			stop()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// receive makes a chat line addressed to the bot durable, then handles it.
func (b *Bridge) receive(ctx context.Context, n *Network, m chat.Message) {
	if m.Reaction != "" {
		// A ✅ on a page's message is "ack" of that page, from whoever
		// reacted, with the same linked-user rules; other reactions are
		// nobody's command.
		if m.Reaction != chat.ReactionAck || m.PageID == 0 {
			return
		}
		m.Text = fmt.Sprintf("!%s %d", cmdAck, m.PageID)
	}
	if _, ok := addressed(m.Text, b.nick(n), m.Private); !ok {
		return
	}
	key := m.ID
	if key == "" {
		key = randomKey()
	}
	in, fresh, err := b.d.Store.RecordChatInbound(ctx, store.ChatInbound{
		Network: n.Name(), DedupKey: n.Name() + "/" + key, Nick: m.Sender.Nick, Account: m.Sender.Account,
		Target: m.Target, Private: m.Private, Body: clip(m.Text, 2000), ThreadOf: m.ThreadOf,
	})
	if err != nil {
		// Not durable, so not taken: say so straight away.
		b.d.Logger.Error("chat line not recorded", "network", n.Name(), "error", err)
		_, _ = n.Send(ctx, chat.Outgoing{Target: replyTarget(m.Private, m.Target, m.Sender.Nick), ThreadOf: m.ThreadOf,
			Text: m.Sender.Nick + ": sorry, I cannot take commands just now; try again in a minute."})
		return
	}
	if !fresh && in.ProcessedAt != nil {
		return
	}
	b.process(ctx, n, in)
}

// recover handles the lines an earlier holder accepted and did not finish.
func (b *Bridge) recover(ctx context.Context, n *Network) {
	ins, err := b.d.Store.UnprocessedChatInbound(ctx, n.Name(), 500)
	if err != nil {
		b.d.Logger.Error("unfinished chat lines not loaded", "network", n.Name(), "error", err)
		return
	}
	for _, in := range ins {
		b.process(ctx, n, in)
	}
}

// process answers one durable chat line: the answers are recorded and
// handed to the outbox (so an answer "on its way" is said even if Klaxon
// restarts), then the line is marked processed. Handling a line twice
// does nothing twice: its text, page and answers carry its id.
func (b *Bridge) process(ctx context.Context, n *Network, in store.ChatInbound) {
	out := b.execute(ctx, n, in)
	for i, o := range out {
		if err := b.say(ctx, n, o, fmt.Sprintf("in/%d/%d", in.ID, i)); err != nil {
			b.d.Logger.Error("chat answer not queued", "network", n.Name(), "line", in.ID, "error", err)
			return
		}
	}
	if err := b.d.Store.MarkChatInboundProcessed(ctx, in.ID); err != nil {
		b.d.Logger.Error("chat line not marked processed", "network", n.Name(), "line", in.ID, "error", err)
	}
}

// say records a line and hands it to the network's outbox.
func (b *Bridge) say(ctx context.Context, n *Network, o chat.Outgoing, dedup string) error {
	return Say(ctx, b.d.Store, b.d.Start, n.Name(), o, dedup)
}

// Say records a line to say on network and hands it to the network's
// outbox; the same dedup key again says nothing more.
func Say(ctx context.Context, st *store.Store, start workflows.Starter, network string, o chat.Outgoing, dedup string) error {
	l := store.ChatLine{
		Network: network, Target: o.Target, Body: clip(o.Text, 4000), Notice: o.Notice, DedupKey: dedup,
		ThreadOf: o.ThreadOf, Conversation: o.Conversation,
	}
	if o.Page != nil {
		l.PageID, l.PageEvent, l.Headline = o.Page.ID, o.Page.Event, clip(o.Page.Headline, 4000)
	}
	l, _, err := st.AddChatLine(ctx, l)
	if err != nil {
		return err
	}
	if l.SentAt != nil {
		return nil
	}
	return start.ChatLine(ctx, network, l.ID)
}

// nick is the bot's current nick on n.
func (b *Bridge) nick(n *Network) string {
	if nn, ok := n.Network.(interface{ Nick() string }); ok {
		if s := nn.Nick(); s != "" {
			return s
		}
	}
	return n.Nick
}

func replyTarget(private bool, target, nick string) string {
	if private {
		return nick
	}
	return target
}

func randomKey() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
