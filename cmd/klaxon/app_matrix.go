package main

import (
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/matrix"
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

// chatConfigured reports whether network's bridge is configured.
func (a *app) chatConfigured(network string) bool {
	switch network {
	case chat.IRC:
		return a.cfg.IRCServer != ""
	case chat.Matrix:
		return a.matrix != nil
	}
	return false
}
