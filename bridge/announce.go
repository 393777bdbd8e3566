package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/store"
)

// announce tells the team channel of every page created, acknowledged or
// resolved — from SMS, a call, the API or chat — so nobody works a problem
// already taken. It reads the pages' timelines from Postgres after a
// cursor kept there, so every event is announced once whichever process
// holds the connection.
func (b *Bridge) announce(ctx context.Context, n *Network) error {
	if n.Team == "" {
		return nil
	}
	cursor := "page-events/" + b.d.Start.TaskQueue + "/" + n.Name()
	t := time.NewTicker(b.announceEvery)
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
		evs, _, err := b.d.Store.PageAnnouncements(ctx, cursor, 100)
		if err != nil {
			if ctx.Err() == nil {
				b.d.Logger.Warn("page events not read for chat", "network", n.Name(), "error", err)
			}
			continue
		}
		for _, e := range evs {
			o := chat.Outgoing{Target: n.Team, Text: announcement(e), Notice: true}
			if err := b.say(ctx, n, o, fmt.Sprintf("page-event/%d/%s", e.EventID, n.Name())); err != nil {
				b.d.Logger.Warn("page event not announced", "network", n.Name(), "error", err)
				break
			}
			if err := b.d.Store.AdvanceChatCursor(ctx, cursor, e.EventID); err != nil {
				b.d.Logger.Warn("page event cursor not moved", "network", n.Name(), "error", err)
				break
			}
		}
	}
}

// announcement is the team channel's line for a page event.
func announcement(e store.PageAnnouncement) string {
	p := e.Page
	switch e.Kind {
	case store.EventAcked:
		return fmt.Sprintf("Page %d acknowledged%s: %s", p.ID, byClause(e.By), clip(p.Summary, 200))
	case store.EventResolved:
		return fmt.Sprintf("Page %d resolved%s: %s", p.ID, byClause(e.By), clip(p.Summary, 200))
	}
	by := ""
	if e.By != "" {
		by = " by " + activities.Unhighlight(e.By)
	}
	return fmt.Sprintf("Page %d opened for %s%s: %s", p.ID, unhighlightTarget(p.Target), by, clip(p.Summary, 200))
}
