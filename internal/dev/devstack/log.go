package devstack

import (
	"log/slog"

	"go.temporal.io/sdk/log"
)

// sdkLogger adapts slog for the Temporal SDK, quieting its info chatter.
func sdkLogger(l *slog.Logger) log.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return log.NewStructuredLogger(l)
}
