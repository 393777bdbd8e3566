package main

import (
	"context"
	"log/slog"
	"path/filepath"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/internal/dev/devstack"
)

// devIRCPort is the dev IRC server's port when it is free (6667, IRC's).
const devIRCPort = 6667

// startDevIRC starts a local ngircd when one is installed and no IRC
// server is configured, and points the bot at its #klaxon. It returns nil
// (and says why in the log) when there is none.
func startDevIRC(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*devstack.Ngircd, error) {
	if cfg.IRCServer != "" {
		return nil, nil
	}
	bin, err := devstack.FindNgircd()
	if err != nil {
		logger.Info("no IRC server: " + err.Error())
		return nil, nil
	}
	srv, err := devstack.StartNgircd(ctx, devstack.NgircdOptions{Bin: bin, Dir: filepath.Join(cfg.DataDir, "ngircd"), Port: portOrAny(devIRCPort)})
	if err != nil {
		return nil, err
	}
	cfg.IRCServer = srv.Addr
	cfg.IRCChannels = []string{"#klaxon"}
	// A local server has no accounts: people are known by nick.
	cfg.IRCTrustNicks = true
	return srv, nil
}

// devIRCURL is how to watch the team channel with any IRC client.
func devIRCURL(srv *devstack.Ngircd) string { return "irc://" + srv.Addr + "/#klaxon" }
