package workflows

import "go.temporal.io/sdk/workflow"

// pagingText handles a text sent to the paging number that was not a
// verification code: page acknowledgements and "get HANDLE now: ...". It
// returns the reply to send back (empty for none).
//
// TODO(paging): replaced by the paging feature.
func pagingText(_ workflow.Context, _ InboundText) (reply string, err error) {
	return "", nil
}

// pageKeypress applies a key pressed during a page's call to its page.
//
// TODO(paging): replaced by the paging feature.
func pageKeypress(_ workflow.Context, _ InboundKeypress) error {
	return nil
}
