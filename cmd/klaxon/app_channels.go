package main

import (
	"context"

	"github.com/klaxonhq/klaxon/activities"
)

// channelActivities builds the SMS channels' activities and, at start,
// makes sure the signup channel (KLAXON_SIGNUP_NUMBER) and the diagnostics
// channel (KLAXON_DIAGNOSTICS_NUMBER) exist with KLAXON_MAINTAINERS as their
// admins. A failure there is logged, not fatal: the rest of Klaxon works
// without them, and the next start tries again.
func (a *app) channelActivities(ctx context.Context) *activities.Channels {
	c := &activities.Channels{
		Store: a.store,
		Settings: activities.ChannelSettings{
			Brand:             a.cfg.Brand,
			SignupNumber:      a.cfg.SignupNumber,
			DiagnosticsNumber: a.cfg.DiagnosticsNumber,
			PagingNumber:      a.cfg.FromNumber,
			ReserveSize:       a.cfg.ReserveSize,
			Region:            a.cfg.DefaultRegion,
		},
		Logger: a.logger,
	}
	if a.twilio != nil {
		c.Numbers = a.twilio
	}
	if err := a.store.EnsureSystemChannels(ctx, a.cfg.SignupNumber, a.cfg.DiagnosticsNumber, a.cfg.Maintainers); err != nil {
		a.logger.Error("system channels not set up", "error", err)
	}
	return c
}
