package irc_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"

	"github.com/klaxonhq/klaxon/irc"
)

// A bot that answers "ping" in its channel, and acts on "sms" only for
// senders the server vouches for.
func Example() {
	c, err := irc.New(irc.Config{
		Server:   "irc.example.net:6697",
		TLS:      true,
		Nick:     "klaxon",
		Password: os.Getenv("IRC_PASSWORD"), // SASL PLAIN where offered, else PASS
		Channels: []string{"#ops"},
		Logger:   slog.Default(),
	})
	if err != nil {
		slog.Error("irc config", "err", err)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err = c.Run(ctx, func(ctx context.Context, ev irc.Event) {
		if ev.Kind != irc.KindMessage {
			return
		}
		reply := ev.Target
		if ev.Private {
			reply = ev.Nick
		}
		switch {
		case ev.Text == "ping":
			_ = c.Say(ctx, reply, ev.Nick+": pong")
		case !ev.Vouched():
			// A nick alone: anyone could have taken it.
			_ = c.Notice(ctx, ev.Nick, "log in to your account first")
		default:
			// ev.Account is who the server says this is.
		}
	})
	if !errors.Is(err, context.Canceled) {
		slog.Error("irc", "err", err)
	}
}
