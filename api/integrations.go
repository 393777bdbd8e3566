package api

import "time"

// ServiceRequest is the body of POST /api/v1/services.
type ServiceRequest struct {
	Name string `json:"name"`
	// Target is whom the service's alerts page, as in CreatePageRequest.
	Target string `json:"target"`
}

// Service is a service as the API shows it. Key and the URLs that carry it
// are set only in the answer that made the key (creation, rotation): Klaxon
// keeps only the key's hash.
type Service struct {
	Name            string    `json:"name"`
	Target          string    `json:"target"`
	Key             string    `json:"key,omitempty"`
	AlertmanagerURL string    `json:"alertmanager_url,omitempty"`
	EventsURL       string    `json:"events_url,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
	KeyRotatedAt    time.Time `json:"key_rotated_at"`
}

// ServiceList is GET /api/v1/services.
type ServiceList struct {
	Services []Service `json:"services"`
}

// IntegrationResult answers a monitor's request: what Klaxon did with it.
type IntegrationResult struct {
	PageID int64 `json:"page_id,omitempty"`
	// Status is the page's status, or "none" when no page was acted on.
	Status string `json:"status"`
	// Action is opened, joined, resolving (after the quiet window), acked,
	// resolved or nothing.
	Action  string `json:"action"`
	Message string `json:"message"`
}

// SubscriptionWhen says which page events a subscription wants; an empty
// field matches anything.
type SubscriptionWhen struct {
	Service  string `json:"service,omitempty"`
	Target   string `json:"target,omitempty"`
	Event    string `json:"event,omitempty"`
	Contains string `json:"contains,omitempty"`
}

// SubscriptionRequest is the body of POST /api/v1/users/{handle}/subscriptions.
type SubscriptionRequest struct {
	When SubscriptionWhen `json:"when"`
	// Then is "sms", "email" or "call".
	Then string `json:"then"`
}

// Subscription is a person's "send me an SMS when …".
type Subscription struct {
	ID        int64            `json:"id"`
	User      string           `json:"user"`
	When      SubscriptionWhen `json:"when"`
	Then      string           `json:"then"`
	CreatedAt time.Time        `json:"created_at"`
}

// SubscriptionList is GET /api/v1/users/{handle}/subscriptions.
type SubscriptionList struct {
	Subscriptions []Subscription `json:"subscriptions"`
}
