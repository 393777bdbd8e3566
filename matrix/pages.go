package matrix

import (
	"fmt"

	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

// Headline is a page's message in a room as it reads now (chat.Headline
// for its status).
func Headline(p store.Page) string {
	switch p.Status {
	case paging.StatusAcked:
		return chat.Headline(p.ID, chat.PageAcked, p.AckedBy, p.Summary)
	case paging.StatusResolved:
		return chat.Headline(p.ID, chat.PageResolved, p.ResolvedBy, p.Summary)
	}
	return chat.Headline(p.ID, chat.PageOpened, "", p.Summary)
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
