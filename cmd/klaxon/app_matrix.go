package main

import (
	"context"

	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/matrix"
)

// openMatrix builds the Matrix network when KLAXON_MATRIX_HOMESERVER is
// set: the bot's connection and the ✅ acknowledgements it takes.
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
	a.matrixAcks = &matrix.Acker{Store: a.store, Temporal: a.temporal, TaskQueue: a.cfg.TaskQueue}
	return nil
}

// runMatrix keeps the bot connected until ctx ends.
func (a *app) runMatrix(ctx context.Context) error {
	err := a.matrix.Run(ctx, a.matrixMessage)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// matrixMessage takes what people say on Matrix: a ✅ on a page's message
// acknowledges the page, answered in the page's thread with its message
// edited to its new status.
func (a *app) matrixMessage(ctx context.Context, m chat.Message) {
	ack, err := a.matrixAcks.Handle(ctx, m)
	if err != nil {
		a.logger.ErrorContext(ctx, "matrix ack", "page", m.PageID, "error", err)
		return
	}
	if !ack.Handled {
		return
	}
	line := &chat.PageLine{ID: m.PageID, Event: chat.PageAcked}
	if pg, err := a.store.GetPage(ctx, m.PageID); err == nil && ack.Result.Changed {
		line.Headline = matrix.Headline(pg)
	}
	if _, err := a.matrix.Send(ctx, chat.Outgoing{Text: matrix.AckReply(ack, m.PageID), Notice: true, Page: line}); err != nil {
		a.logger.WarnContext(ctx, "matrix ack reply", "page", m.PageID, "error", err)
	}
}
