package matrix

import (
	"github.com/klaxonhq/klaxon/chat"
	"github.com/klaxonhq/klaxon/paging"
)

// Headline is a page's message in a room as it reads now (chat.Headline
// for its status).
func Headline(p paging.Page) string {
	switch p.Status {
	case paging.StatusAcked:
		return chat.Headline(p.ID, chat.PageAcked, p.AckedBy, p.Summary)
	case paging.StatusResolved:
		return chat.Headline(p.ID, chat.PageResolved, p.ResolvedBy, p.Summary)
	}
	return chat.Headline(p.ID, chat.PageOpened, "", p.Summary)
}
