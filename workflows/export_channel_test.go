package workflows

import "go.temporal.io/sdk/workflow"

// ChannelTextTest runs the channel hook as the Inbound workflow does, for
// the channel tests of package workflows_test (which need the test
// environment helpers that import this package).
func ChannelTextTest(ctx workflow.Context, t InboundText) (bool, error) { return channelText(ctx, t) }
