package gateway

import (
	"context"
	"fmt"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/store"
)

// chatDeliveryStatus tells the chat where a text was asked for ("sms NAME
// MESSAGE") that the provider reports it undelivered or failed — once.
func (g *Gateway) chatDeliveryStatus(ctx context.Context, messageID, status string) {
	if status != klaxon.StatusUndelivered && status != klaxon.StatusFailed {
		return
	}
	c, ok, err := g.Store.ClaimChatSMSFailure(ctx, messageID)
	if err != nil {
		g.Logger.ErrorContext(ctx, "chat text status", "message", messageID, "error", err)
		return
	}
	if !ok {
		return
	}
	l, _, err := g.Store.AddChatLine(ctx, store.ChatLine{
		Network: c.Network, Target: c.ReplyTo, DedupKey: "sms-status/" + messageID,
		Body: fmt.Sprintf("%s: your text to %s was not delivered (%s).", c.Asker, activities.Unhighlight(c.Nick), status),
	})
	if err == nil {
		err = g.start.ChatLine(ctx, c.Network, l.ID)
	}
	if err != nil {
		g.Logger.ErrorContext(ctx, "chat text status not told", "message", messageID, "error", err)
	}
}
