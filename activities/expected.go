package activities

import "go.temporal.io/sdk/temporal"

// expected is the failure of an activity that did what it should: a send
// canceled because its page was acknowledged, a text to a number that
// texted STOP, a sender at its rate limit (the message queues), a channel
// request for a number already taken. It is benign: the worker logs it at
// debug, not as an error, and metrics do not count it as a failure; the
// workflow handles it by its type like any other. nonRetryable says whether
// trying again could change the outcome.
func expected(msg, errType string, nonRetryable bool, details ...any) error {
	return temporal.NewApplicationErrorWithOptions(msg, errType, temporal.ApplicationErrorOptions{
		NonRetryable: nonRetryable, Category: temporal.ApplicationErrorCategoryBenign, Details: details,
	})
}
