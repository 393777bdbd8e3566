package workflows

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/klaxonhq/klaxon/activities"
)

// Deps are the activity implementations Klaxon's workflows call, one
// struct per feature.
type Deps struct {
	Delivery *activities.Delivery
	Inbound  *activities.Inbound
	Codes    *activities.Codes
	Paging   *activities.Paging
	// Subscriptions plans the FYIs of page events.
	Subscriptions *activities.Subscriptions
	Rotations     *activities.Rotations
	Channels      *activities.Channels
	// Chat relays texts into chat (nil where no rig needs it).
	Chat *activities.Chat
	// Directory synchronises with LDAP; its Syncer is nil when no
	// directory is configured.
	Directory *activities.Directory
}

// Register registers every workflow and activity on r under its persisted
// name, feature by feature. The worker and every test rig call it, so a
// registration missing in production is missing in the tests too. A rig
// that fakes an activity leaves its Deps field nil and registers the fake
// under the same name with Override.
func Register(r worker.Registry, d Deps) {
	registerDelivery(r, d.Delivery)
	registerInbound(r, d.Inbound)
	registerCodes(r, d.Codes)
	registerPaging(r, d.Paging, d.Subscriptions)
	registerRotations(r, d.Rotations)
	registerChannels(r, d.Channels)
	registerChat(r, d.Chat)
	registerDirectory(r, d.Directory)
}

// Override registers fn under the persisted activity name, in place of
// what Register put there: for test rigs' fakes.
func Override(r worker.Registry, fn any, name string) {
	r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name, DisableAlreadyRegisteredCheck: true})
}

// OverrideWorkflow registers fn under the persisted workflow name, in place
// of what Register put there: for test rigs' fakes.
func OverrideWorkflow(r worker.Registry, fn any, name string) {
	r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name, DisableAlreadyRegisteredCheck: true})
}

func registerWorkflow(r worker.Registry, fn any, name string) {
	r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
}

func registerActivity(r worker.Registry, fn any, name string) {
	r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
}
