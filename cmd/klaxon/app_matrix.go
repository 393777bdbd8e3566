package main

import (
	"context"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/bridge"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/matrix"
	"github.com/klaxonhq/klaxon/workflows"
)

// openMatrix builds the Matrix network when KLAXON_MATRIX_HOMESERVER is
// set; the chat bridge holds its connection.
func (a *app) openMatrix() error {
	if a.cfg.MatrixHomeserver == "" {
		return nil
	}
	n, err := matrix.New(matrix.Config{
		Homeserver: a.cfg.MatrixHomeserver,
		User:       a.cfg.MatrixUser, Password: a.cfg.MatrixPassword.Value(), Token: a.cfg.MatrixToken.Value(),
		Rooms: a.cfg.MatrixRooms,
	}, a.store, a.logger.With("component", "matrix"))
	if err != nil {
		return err
	}
	a.matrix = n
	return nil
}

// chatNetworks are the bridge's configured networks.
func (a *app) chatNetworks() []bridge.Network {
	var nets []bridge.Network
	if a.matrix != nil {
		nets = append(nets, bridge.Network{Network: a.matrix, Nick: a.matrix.Nick(), Team: a.matrix.TeamRoom()})
	}
	return nets
}

// chatRelay is the inbound pipeline's side of the bridge: texts to the
// paging number relayed into the networks' team channels.
func (a *app) chatRelay(start workflows.Starter) *activities.Chat {
	nets := a.chatNetworks()
	if len(nets) == 0 {
		return nil
	}
	c := &activities.Chat{Store: a.store, Logger: a.logger, Enqueue: start.ChatLine}
	for _, n := range nets {
		c.Networks = append(c.Networks, activities.ChatNetwork{Name: n.Name(), Team: n.Team})
	}
	return c
}

// openBridge builds the chat bridge over the configured networks.
func (a *app) openBridge(start workflows.Starter) {
	nets := a.chatNetworks()
	if len(nets) == 0 {
		return
	}
	a.bridge = bridge.New(bridge.Deps{
		Store: a.store, Temporal: a.temporal, Start: start, FromNumber: a.cfg.FromNumber,
		Logger: a.logger.With("component", "bridge"),
	}, nets...)
}

// runBridge holds the chat connections until ctx ends.
func (a *app) runBridge(ctx context.Context) error { return a.bridge.Run(ctx) }

var _ chat.Network = (*matrix.Network)(nil)
