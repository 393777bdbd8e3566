package main

import (
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/bridge"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/irc"
	"github.com/klaxonhq/klaxon/workflows"
)

// chatActivities are the bridge's activities on the main task queue: the
// relay of texts into the networks configured (none: the bridge is off).
func (a *app) chatActivities() *activities.Chat {
	c := &activities.Chat{Store: a.store, Logger: a.logger, Enqueue: a.starter().ChatLine}
	if a.cfg.IRCServer != "" {
		c.Networks = append(c.Networks, activities.ChatNetwork{Name: chat.IRC, Team: a.cfg.IRCChannels[0]})
	}
	if a.matrix != nil {
		c.Networks = append(c.Networks, activities.ChatNetwork{Name: chat.Matrix, Team: a.matrix.TeamRoom()})
	}
	return c
}

// openBridge builds the chat bridge when KLAXON_IRC_SERVER or
// KLAXON_MATRIX_HOMESERVER is set: the bots' connections, each held by
// whichever worker process takes its lock.
func (a *app) openBridge() error {
	var nets []bridge.Network
	if a.cfg.IRCServer != "" {
		n, err := bridge.NewIRC(irc.Config{
			Server: a.cfg.IRCServer, TLS: a.cfg.IRCTLS, CAFile: a.cfg.IRCCAFile,
			Nick: a.cfg.IRCNick, Password: a.cfg.IRCPassword.Value(), Channels: a.cfg.IRCChannels,
			Logger: a.logger.With("component", "irc"),
		})
		if err != nil {
			return err
		}
		a.irc = n
		nets = append(nets, bridge.Network{Network: n, Nick: a.cfg.IRCNick, Team: a.cfg.IRCChannels[0], TrustNicks: a.cfg.IRCTrustNicks})
	}
	if a.matrix != nil {
		nets = append(nets, bridge.Network{Network: a.matrix, Nick: a.matrix.Nick(), Team: a.matrix.TeamRoom()})
	}
	if len(nets) == 0 {
		return nil
	}
	a.bridge = bridge.New(bridge.Deps{
		Store: a.store, Temporal: a.temporal, Start: a.starter(), FromNumber: a.cfg.FromNumber,
		Logger: a.logger.With("component", "bridge"),
	}, nets...)
	return nil
}

// starter starts workflows as every other caller does.
func (a *app) starter() workflows.Starter {
	return workflows.Starter{Client: a.temporal, TaskQueue: a.cfg.TaskQueue, Brand: a.cfg.Brand}
}
