// Package workflows holds Klaxon's Temporal workflows: every long-running
// thing — a delivery with retries, a verification code waiting for its
// answer, an escalating page, a channel being created, a rotation handing
// off. Workflow code here is deterministic and checked by workflowcheck.
//
// Each feature's Temporal surface — its workflow, activity, signal and
// update names, workflow ids, starts and registration — is in one file:
// message_surface.go, inbound_surface.go, page_surface.go,
// rotation_surface.go, channel_surface.go and directory_surface.go.
// Register registers them all.
package workflows

import "go.temporal.io/sdk/temporal"

// The names in the surface files and below are a persisted API: running
// histories refer to them. Never rename one; add new ones.

// DefaultTaskQueue is the task queue Klaxon's workflows and activities run
// on unless KLAXON_TASK_QUEUE names another (to keep two deployments, or two
// tests, on one Temporal namespace apart).
const DefaultTaskQueue = "klaxon"

// Query names.
const (
	// QueryState returns a workflow's current state.
	QueryState = "state"
)

// Search attributes. Maintainers find any stuck request with
// `temporal workflow list --query 'KlaxonKind="message" AND KlaxonStatus="retrying"'`.
var (
	// SearchKind is what the workflow does: message, page, verification,
	// otp, inbound, channel-create, broadcast, rotation, directory-sync.
	SearchKind = temporal.NewSearchAttributeKeyKeyword("KlaxonKind")
	// SearchStatus is the workflow's own status (queued, sending, retrying,
	// sent, failed, waiting, open, acked, ...).
	SearchStatus = temporal.NewSearchAttributeKeyKeyword("KlaxonStatus")
	// SearchRef is the id of the thing the workflow is about (message id,
	// page id, channel id, contact id).
	SearchRef = temporal.NewSearchAttributeKeyKeyword("KlaxonRef")
	// SearchPageID is the page a workflow belongs to.
	SearchPageID = temporal.NewSearchAttributeKeyKeyword("KlaxonPageID")
	// SearchPageStatus is a page's status: open, acked, resolved.
	SearchPageStatus = temporal.NewSearchAttributeKeyKeyword("KlaxonPageStatus")
	// SearchTarget is a page's target ("user:alice", "rotation:ops").
	SearchTarget = temporal.NewSearchAttributeKeyKeyword("KlaxonTarget")
	// SearchChannel is the SMS channel (its phone number's id, never the
	// number itself) a workflow works on.
	SearchChannel = temporal.NewSearchAttributeKeyKeyword("KlaxonChannel")
)

// SearchAttributes lists every custom search attribute Klaxon uses, so the
// dev server and `klaxon serve` can register the missing ones.
func SearchAttributes() []temporal.SearchAttributeKey {
	return []temporal.SearchAttributeKey{
		SearchKind, SearchStatus, SearchRef, SearchPageID, SearchPageStatus, SearchTarget, SearchChannel,
	}
}
