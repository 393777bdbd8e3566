package api

import "time"

// CreateChannelRequest is the body of POST /api/v1/channels.
type CreateChannelRequest struct {
	// Phone is the channel's number; empty takes one from the reserve pool.
	Phone  string   `json:"phone,omitempty"`
	Admins []string `json:"admins"`
	// RequestID makes the request idempotent (also: Idempotency-Key).
	RequestID string `json:"request_id,omitempty"`
}

// ChannelCreated answers POST /api/v1/channels (201).
type ChannelCreated struct {
	Phone     string `json:"phone"`
	ID        int64  `json:"id"`
	RequestID string `json:"request_id"`
}

// Channel is a channel as maintainers see it: counts, never members.
type Channel struct {
	ID          int64      `json:"id"`
	Phone       string     `json:"phone"`
	Kind        string     `json:"kind"`
	HotlineOn   bool       `json:"hotline_on"`
	Admins      int        `json:"admins"`
	Subscribers int        `json:"subscribers"`
	CreatedAt   time.Time  `json:"created_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
}

// ChannelDetail is GET /api/v1/channels/{phone}: counts and the latest
// broadcasts' progress.
type ChannelDetail struct {
	Channel
	Broadcasts []Broadcast `json:"broadcasts,omitempty"`
}

// ChannelList is GET /api/v1/channels.
type ChannelList struct {
	Channels []Channel `json:"channels"`
}

// Broadcast is one broadcast's progress.
type Broadcast struct {
	ID         string    `json:"id"`
	Recipients int       `json:"recipients"`
	Done       bool      `json:"done"`
	Queued     int       `json:"queued"`
	Sent       int       `json:"sent"`
	Delivered  int       `json:"delivered"`
	Failed     int       `json:"failed"`
	CreatedAt  time.Time `json:"created_at"`
}

// AddNumberRequest is the body of POST /api/v1/numbers.
type AddNumberRequest struct {
	Phone string `json:"phone"`
}

// Number is a pool number with its state in words.
type Number struct {
	ID     int64  `json:"id"`
	Phone  string `json:"phone"`
	Status string `json:"status"`
	Source string `json:"source"`
	// Error says why a failed number failed.
	Error string `json:"error,omitempty"`
	// ChannelID is the live channel using the number, if any.
	ChannelID *int64    `json:"channel_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// State is "available", "in use" or "failed".
	State string `json:"state"`
}

// NumberList is GET /api/v1/numbers: the pool and its counts.
type NumberList struct {
	Numbers        []Number `json:"numbers"`
	Available      int      `json:"available"`
	ActiveChannels int      `json:"active_channels"`
	ReserveSize    int      `json:"reserve_size"`
}

// ProvisionRequest is the body of POST /api/v1/numbers/provision.
type ProvisionRequest struct {
	Count     int    `json:"count"`
	AreaCode  string `json:"area_code,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// ProvisionFailure is one number that could not be bought.
type ProvisionFailure struct {
	Phone  string `json:"phone,omitempty"`
	Reason string `json:"reason"`
}

// ProvisionResult answers POST /api/v1/numbers/provision (201).
type ProvisionResult struct {
	Bought []string           `json:"bought"`
	Failed []ProvisionFailure `json:"failed,omitempty"`
}

// Pending is the 202 answer of a long request (a channel, provisioning)
// still running: GET Location for its answer, or send the same request
// again with the same request id.
type Pending struct {
	RequestID string `json:"request_id"`
	Status    string `json:"status"`
	Location  string `json:"location"`
	Message   string `json:"message"`
}
