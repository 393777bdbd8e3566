package matrix

import (
	"fmt"

	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// Headline is a page's message in a room as it reads now, its status in
// brackets: "Page 3 [acked by alice]: derp is broken". The message is
// edited to it as the page changes, so the room shows where every page
// stands without reading its thread.
func Headline(p store.Page) string {
	status := p.Status
	switch p.Status {
	case paging.StatusAcked:
		status = "acked by " + p.AckedBy
	case paging.StatusResolved:
		status = "resolved"
		if p.ResolvedBy != "" {
			status += " by " + p.ResolvedBy
		}
	}
	return fmt.Sprintf("Page %d [%s]: %s", p.ID, status, p.Summary)
}

// AckReply is what the bot says in a page's thread after a ✅ on it.
func AckReply(a Ack, pageID int64) string {
	switch {
	case !a.Linked:
		return "Only people Klaxon knows can acknowledge a page: ask an admin to link your Matrix id."
	case a.Result.Changed:
		return fmt.Sprintf("%s acknowledged page %d: every pending notification is canceled.", a.By, pageID)
	case a.Result.Status == paging.StatusResolved:
		return fmt.Sprintf("Page %d is already resolved%s.", pageID, byClause(a.Result.By))
	default:
		return fmt.Sprintf("Page %d was already acknowledged%s.", pageID, byClause(a.Result.By))
	}
}

func byClause(by string) string {
	if by == "" {
		return ""
	}
	return " by " + by
}
