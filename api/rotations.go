package api

import "time"

// CreateRotationRequest is the body of POST /api/v1/rotations. The shift
// length is given once, in hours, days or weeks.
type CreateRotationRequest struct {
	Name       string   `json:"name"`
	Timezone   string   `json:"timezone"`
	Members    []string `json:"members"`
	ShiftHours *int     `json:"shift_hours,omitempty"`
	ShiftDays  *int     `json:"shift_days,omitempty"`
	ShiftWeeks *int     `json:"shift_weeks,omitempty"`
	// Start is RFC 3339; empty means now.
	Start string `json:"start,omitempty"`
	// HandoffTime ("09:00") and HandoffWeekday ("monday") align handoffs;
	// by default they are start's.
	HandoffTime    string `json:"handoff_time,omitempty"`
	HandoffWeekday string `json:"handoff_weekday,omitempty"`
	// ReminderMinutes before each shift the incoming person is reminded;
	// absent means 60, 0 turns reminders off.
	ReminderMinutes *int `json:"reminder_minutes,omitempty"`
}

// UpdateRotationRequest is the body of PATCH /api/v1/rotations/{name}.
type UpdateRotationRequest struct {
	ReminderMinutes *int `json:"reminder_minutes"`
}

// MembersRequest is PUT (members) or PATCH (add, remove) on
// /api/v1/rotations/{name}/members.
type MembersRequest struct {
	Members []string `json:"members,omitempty"`
	Add     []string `json:"add,omitempty"`
	Remove  []string `json:"remove,omitempty"`
}

// OverrideRequest is the body of POST /api/v1/rotations/{name}/overrides.
type OverrideRequest struct {
	User string `json:"user"`
	// Start is RFC 3339; empty means now.
	Start string `json:"start,omitempty"`
	End   string `json:"end"`
}

// OnCall is who is on call: GET /api/v1/rotations/{name}/oncall. Times are
// RFC 3339 in the rotation's timezone; user and until are null when nobody
// is on call, or nobody will take over.
type OnCall struct {
	Rotation      string     `json:"rotation"`
	Timezone      string     `json:"timezone"`
	User          *string    `json:"user"`
	Until         *time.Time `json:"until"`
	ScheduledUser *string    `json:"scheduled_user"`
	OverrideID    int64      `json:"override_id,omitempty"`
	At            time.Time  `json:"at"`
}

// Shift is one stretch of an upcoming schedule.
type Shift struct {
	User          string     `json:"user"`
	ScheduledUser string     `json:"scheduled_user,omitempty"`
	OverrideID    int64      `json:"override_id,omitempty"`
	Start         time.Time  `json:"start"`
	End           *time.Time `json:"end"`
}

// Rotation is a rotation as the API shows it.
type Rotation struct {
	Name            string    `json:"name"`
	Timezone        string    `json:"timezone"`
	ShiftHours      int       `json:"shift_hours"`
	Shift           string    `json:"shift"`
	HandoffTime     string    `json:"handoff_time"`
	HandoffWeekday  string    `json:"handoff_weekday,omitempty"`
	Start           time.Time `json:"start"`
	ReminderMinutes int       `json:"reminder_minutes"`
	Members         []string  `json:"members"`
	OnCall          OnCall    `json:"oncall"`
	// Upcoming is the schedule ahead, overrides included (single rotation
	// only).
	Upcoming []Shift `json:"upcoming,omitempty"`
	// Handoffs is the state of the rotation's handoff workflow (single
	// rotation only).
	Handoffs *Handoffs `json:"handoffs,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
}

// RotationList is GET /api/v1/rotations.
type RotationList struct {
	Rotations []Rotation `json:"rotations"`
}

// Handoffs is what the rotation's workflow says about itself.
type Handoffs struct {
	WorkflowID string `json:"workflow_id"`
	// Status is the workflow's ("running", "not running", "unknown") and,
	// when running, its own state.
	Status string         `json:"status"`
	State  *HandoffsState `json:"state,omitempty"`
}

// HandoffsState is the handoff workflow's answer to its state query.
type HandoffsState struct {
	Rotation string `json:"rotation"`
	// Status is planning, waiting (for a reminder or handoff), idle (no
	// handoff ahead), announcing, or deleted.
	Status      string     `json:"status"`
	NextHandoff *time.Time `json:"next_handoff,omitempty"`
	Outgoing    string     `json:"outgoing,omitempty"`
	Incoming    string     `json:"incoming,omitempty"`
	ReminderAt  *time.Time `json:"reminder_at,omitempty"`
	// LastHandoff is the last handoff announced.
	LastHandoff *time.Time `json:"last_handoff,omitempty"`
	// OnCall is who was last told they are on call.
	OnCall   string   `json:"on_call,omitempty"`
	Version  int64    `json:"version"`
	Warnings []string `json:"warnings,omitempty"`
}

// Override is a cover: User stands in for the rotation from Start to End.
type Override struct {
	ID        int64     `json:"id"`
	Rotation  string    `json:"rotation"`
	User      string    `json:"user"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	CreatedAt time.Time `json:"created_at"`
	// Covers lists who the override stands in for, in order.
	Covers   []string `json:"covers,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// OverrideList is GET /api/v1/rotations/{name}/overrides.
type OverrideList struct {
	Overrides []Override `json:"overrides"`
}

// RotationDeleted answers DELETE /api/v1/rotations/{name}.
type RotationDeleted struct {
	Deleted string `json:"deleted"`
}

// Replanned answers POST /api/v1/rotations/{name}/replan (202).
type Replanned struct {
	WorkflowID string `json:"workflow_id"`
}
