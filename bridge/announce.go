package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/paging"
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
		kinds := store.AnnouncedKinds
		if threads(n) {
			kinds = store.ThreadKinds
		}
		evs, _, err := b.d.Store.PageAnnouncementsOf(ctx, cursor, kinds, 100)
		if err != nil {
			if ctx.Err() == nil {
				b.d.Logger.Warn("page events not read for chat", "network", n.Name(), "error", err)
			}
			continue
		}
		for _, e := range evs {
			o := chat.Outgoing{Target: n.Team, Text: announcement(e), Notice: true, Page: pageLine(e)}
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

// threads reports whether n keeps a page's events in a thread under its
// message (Matrix): then the page's escalation and notifications are told
// there too, which would be noise in a channel without threads.
func threads(n *Network) bool {
	t, ok := n.Network.(interface{ Threads() bool })
	return ok && t.Threads()
}

// pageLine says which page an announcement is of, and the page's message
// as it reads after it.
func pageLine(e store.PageAnnouncement) *chat.PageLine {
	p := e.Page
	l := &chat.PageLine{ID: p.ID}
	switch e.Kind {
	case paging.EventCreated:
		l.Event = chat.PageOpened
		l.Headline = chat.Headline(p.ID, chat.PageOpened, "", clip(p.Summary, 200))
	case paging.EventAcked:
		l.Event = chat.PageAcked
		l.Headline = chat.Headline(p.ID, chat.PageAcked, e.By, clip(p.Summary, 200))
	case paging.EventResolved:
		l.Event = chat.PageResolved
		l.Headline = chat.Headline(p.ID, chat.PageResolved, e.By, clip(p.Summary, 200))
	default:
		l.Event = chat.PageEscalated
	}
	return l
}

// announcement is the team channel's line for a page event.
func announcement(e store.PageAnnouncement) string {
	p := e.Page
	switch e.Kind {
	case paging.EventStep:
		return fmt.Sprintf("Page %d escalated: %s", p.ID, clip(e.Detail, 200))
	case paging.EventNotified:
		return fmt.Sprintf("Page %d: %s %s", p.ID, notifiedBy(e.Medium), activities.Unhighlight(e.User))
	case paging.EventExhausted:
		return fmt.Sprintf("Page %d: everyone was tried and no one acknowledged.", p.ID)
	case paging.EventAcked:
		return fmt.Sprintf("Page %d acknowledged%s: %s", p.ID, byClause(e.By), clip(p.Summary, 200))
	case paging.EventResolved:
		return fmt.Sprintf("Page %d resolved%s: %s", p.ID, byClause(e.By), clip(p.Summary, 200))
	}
	by := ""
	if e.By != "" {
		by = " by " + activities.Unhighlight(e.By)
	}
	return fmt.Sprintf("Page %d opened for %s%s: %s", p.ID, unhighlightTarget(p.Target), by, clip(p.Summary, 200))
}

// notifiedBy is how a notification reached someone, as the thread says it.
func notifiedBy(m klaxon.Medium) string {
	switch m {
	case klaxon.SMS:
		return "texted"
	case klaxon.Voice:
		return "calling"
	case klaxon.Email:
		return "emailed"
	}
	if m.IsChat() {
		return "messaged"
	}
	return "notified (" + string(m) + ")"
}
