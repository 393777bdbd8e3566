package paging

// PurposePage is the Purpose of every message a page sends; its Ref is the
// page id in decimal.
const PurposePage = "page"

// PurposeReadout is the Purpose of a call that reads one page to a person
// who asked for it ("call 3"); its Ref is the page's id.
const PurposeReadout = "readout"
