package bridge

import (
	"context"
	"errors"
	"fmt"

	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/irc"
)

// IRC is the chat.Network of an IRC server, over package irc's client.
type IRC struct {
	c *irc.Client
}

// NewIRC returns the IRC network for cfg; call Run to connect.
func NewIRC(cfg irc.Config) (*IRC, error) {
	c, err := irc.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("irc: %w", err)
	}
	return &IRC{c: c}, nil
}

// Name is chat.IRC.
func (n *IRC) Name() string { return chat.IRC }

// Nick is the bot's nick now (a fallback while the wanted one is taken).
func (n *IRC) Nick() string { return n.c.Nick() }

// Run connects and stays connected until ctx ends, handing on what people
// say (messages and /me actions; notices are never answered).
func (n *IRC) Run(ctx context.Context, handle func(context.Context, chat.Message)) error {
	return n.c.Run(ctx, func(ctx context.Context, ev irc.Event) {
		if ev.Kind != irc.KindMessage {
			return
		}
		acct := ""
		if ev.Vouched() {
			acct = ev.Account
		}
		handle(ctx, chat.Message{
			Network: chat.IRC, ID: ev.ID, Sender: chat.Sender{Nick: ev.Nick, Account: acct},
			Target: ev.Target, Private: ev.Private, Text: ev.Text, Time: ev.Time,
		})
	})
}

// Send says out (as NOTICE lines when asked), split to fit the server's
// line length; IRC gives sent lines no id.
func (n *IRC) Send(ctx context.Context, out chat.Outgoing) (string, error) {
	var err error
	if out.Notice {
		err = n.c.Notice(ctx, out.Target, out.Text)
	} else {
		err = n.c.Say(ctx, out.Target, out.Text)
	}
	if errors.Is(err, irc.ErrNotConnected) {
		return "", fmt.Errorf("%w: %w", chat.ErrNotConnected, err)
	}
	return "", err
}

// Connected reports whether the bot is registered on the server now.
func (n *IRC) Connected() bool { return n.c.Connected() }

// Vouches reports whether the server has accounts: there, a sender's
// account is what identifies them.
func (n *IRC) Vouches() bool { return n.c.HasAccounts() }
