package workflows

import "go.temporal.io/sdk/workflow"

// channelText handles a text sent to an SMS channel's number (or the signup
// or diagnostics channel), sending its own replies. It reports handled=false
// when the number belongs to no channel.
//
// TODO(channels): replaced by the channels feature.
func channelText(_ workflow.Context, _ InboundText) (handled bool, err error) {
	return false, nil
}
