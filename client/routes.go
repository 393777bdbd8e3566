package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/klaxonhq/klaxon/api"
)

// SendMessage queues one message through the delivery pipeline.
func (c *Client) SendMessage(ctx context.Context, req api.CreateMessageRequest) (api.MessageCreated, error) {
	var out api.MessageCreated
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/messages", body: req, out: &out})
	return out, err
}

// Message returns a message with its attempts and status callbacks.
func (c *Client) Message(ctx context.Context, id string) (api.Message, error) {
	var out api.Message
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/messages/" + esc(id), out: &out})
	return out, err
}

// CreateUser adds a person Klaxon can reach.
func (c *Client) CreateUser(ctx context.Context, req api.UserRequest) (api.UserDetail, error) {
	var out api.UserDetail
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/users", body: req, out: &out})
	return out, err
}

// Users lists every user.
func (c *Client) Users(ctx context.Context) ([]api.User, error) {
	var out api.UserList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/users", out: &out})
	return out.Users, err
}

// User returns a user with their contact methods.
func (c *Client) User(ctx context.Context, handle string) (api.UserDetail, error) {
	var out api.UserDetail
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/users/" + esc(handle), out: &out})
	return out, err
}

// UpdateUser changes the fields of a user that patch names.
func (c *Client) UpdateUser(ctx context.Context, handle string, patch api.UserPatch) (api.UserDetail, error) {
	var out api.UserDetail
	err := c.do(ctx, call{method: http.MethodPatch, path: "/api/v1/users/" + esc(handle), body: patch, out: &out})
	return out, err
}

// AddContact adds a contact method to a user and sends it a verification
// code.
func (c *Client) AddContact(ctx context.Context, handle string, req api.ContactRequest) (api.Contact, error) {
	var out api.Contact
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/users/" + esc(handle) + "/contacts", body: req, out: &out})
	return out, err
}

// Contacts lists a user's contact methods.
func (c *Client) Contacts(ctx context.Context, handle string) ([]api.Contact, error) {
	var out api.ContactList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/users/" + esc(handle) + "/contacts", out: &out})
	return out.Contacts, err
}

// VerifyContact checks a contact's verification code.
func (c *Client) VerifyContact(ctx context.Context, id int64, code string) (api.ContactVerified, error) {
	var out api.ContactVerified
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/contacts/" + strconv.FormatInt(id, 10) + "/verify", body: api.CodeRequest{Code: &code}, out: &out})
	return out, err
}

// ResendCode sends a contact a new verification code.
func (c *Client) ResendCode(ctx context.Context, id int64) (api.Contact, error) {
	var out api.Contact
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/contacts/" + strconv.FormatInt(id, 10) + "/resend", body: struct{}{}, out: &out})
	return out, err
}

// SendOTP texts a login code to a phone number or a user.
func (c *Client) SendOTP(ctx context.Context, req api.OTPRequest) (api.OTPSent, error) {
	var out api.OTPSent
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/otp", body: req, out: &out})
	return out, err
}

// CheckOTP checks a login code.
func (c *Client) CheckOTP(ctx context.Context, id, code string) (api.OTPCheck, error) {
	var out api.OTPCheck
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/otp/" + esc(id) + "/check", body: api.CodeRequest{Code: &code}, out: &out})
	return out, err
}

// CreatePage pages a target until someone acknowledges. A page with a dedup
// key is retried on a gateway error (the key makes it the same page); one
// without is sent once.
func (c *Client) CreatePage(ctx context.Context, req api.CreatePageRequest) (api.PageCreated, error) {
	var out api.PageCreated
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/pages", body: req, out: &out, idempotencyKey: req.DedupKey})
	return out, err
}

// Page returns a page and its timeline.
func (c *Client) Page(ctx context.Context, id int64) (api.PageDetail, error) {
	var out api.PageDetail
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/pages/" + strconv.FormatInt(id, 10), out: &out})
	return out, err
}

// Pages lists pages, newest first; status "" is every status.
func (c *Client) Pages(ctx context.Context, status string, limit int) ([]api.Page, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if status != "" {
		q.Set("status", status)
	}
	var out api.PageList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/pages?" + q.Encode(), out: &out})
	return out.Pages, err
}

// Ack acknowledges a page on behalf of by.
func (c *Client) Ack(ctx context.Context, id int64, by string) (api.PageAction, error) {
	return c.pageAction(ctx, id, "ack", by)
}

// Resolve resolves a page on behalf of by.
func (c *Client) Resolve(ctx context.Context, id int64, by string) (api.PageAction, error) {
	return c.pageAction(ctx, id, "resolve", by)
}

func (c *Client) pageAction(ctx context.Context, id int64, action, by string) (api.PageAction, error) {
	var out api.PageAction
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/pages/" + strconv.FormatInt(id, 10) + "/" + action, body: api.PageActionRequest{By: by}, out: &out})
	return out, err
}

// CreatePolicy adds an escalation policy.
func (c *Client) CreatePolicy(ctx context.Context, req api.PolicyRequest) (api.Policy, error) {
	var out api.Policy
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/policies", body: req, out: &out})
	return out, err
}

// Policies lists the escalation policies.
func (c *Client) Policies(ctx context.Context) ([]api.Policy, error) {
	var out api.PolicyList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/policies", out: &out})
	return out.Policies, err
}

// Policy returns one escalation policy.
func (c *Client) Policy(ctx context.Context, name string) (api.Policy, error) {
	var out api.Policy
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/policies/" + esc(name), out: &out})
	return out, err
}

// NotificationRules returns when each medium reaches a user.
func (c *Client) NotificationRules(ctx context.Context, handle string) (api.NotificationRules, error) {
	var out api.NotificationRules
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/users/" + esc(handle) + "/notification-rules", out: &out})
	return out, err
}

// SetNotificationRules replaces a user's notification rules.
func (c *Client) SetNotificationRules(ctx context.Context, handle string, rules api.NotificationRules) (api.NotificationRules, error) {
	var out api.NotificationRules
	err := c.do(ctx, call{method: http.MethodPut, path: "/api/v1/users/" + esc(handle) + "/notification-rules", body: rules, out: &out})
	return out, err
}

// CreateRotation adds an on-call rotation.
func (c *Client) CreateRotation(ctx context.Context, req api.CreateRotationRequest) (api.Rotation, error) {
	var out api.Rotation
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/rotations", body: req, out: &out})
	return out, err
}

// Rotations lists the rotations with who is on call.
func (c *Client) Rotations(ctx context.Context) ([]api.Rotation, error) {
	var out api.RotationList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/rotations", out: &out})
	return out.Rotations, err
}

// Rotation returns a rotation with its next shifts shifts and its handoff
// workflow's state.
func (c *Client) Rotation(ctx context.Context, name string, shifts int) (api.Rotation, error) {
	var out api.Rotation
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/rotations/" + esc(name) + "?shifts=" + strconv.Itoa(shifts), out: &out})
	return out, err
}

// UpdateRotation changes a rotation's settings.
func (c *Client) UpdateRotation(ctx context.Context, name string, req api.UpdateRotationRequest) (api.Rotation, error) {
	var out api.Rotation
	err := c.do(ctx, call{method: http.MethodPatch, path: "/api/v1/rotations/" + esc(name), body: req, out: &out})
	return out, err
}

// SetMembers replaces a rotation's members, in order.
func (c *Client) SetMembers(ctx context.Context, name string, members []string) (api.Rotation, error) {
	var out api.Rotation
	err := c.do(ctx, call{method: http.MethodPut, path: "/api/v1/rotations/" + esc(name) + "/members", body: api.MembersRequest{Members: members}, out: &out})
	return out, err
}

// EditMembers appends and removes members of a rotation.
func (c *Client) EditMembers(ctx context.Context, name string, add, remove []string) (api.Rotation, error) {
	var out api.Rotation
	err := c.do(ctx, call{method: http.MethodPatch, path: "/api/v1/rotations/" + esc(name) + "/members", body: api.MembersRequest{Add: add, Remove: remove}, out: &out})
	return out, err
}

// DeleteRotation deletes a rotation.
func (c *Client) DeleteRotation(ctx context.Context, name string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/api/v1/rotations/" + esc(name), out: &api.RotationDeleted{}})
}

// Replan (re)starts a rotation's handoff workflow.
func (c *Client) Replan(ctx context.Context, name string) (api.Replanned, error) {
	var out api.Replanned
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/rotations/" + esc(name) + "/replan", out: &out})
	return out, err
}

// OnCall says who is on call for a rotation at at (the zero time is now).
func (c *Client) OnCall(ctx context.Context, name string, at time.Time) (api.OnCall, error) {
	path := "/api/v1/rotations/" + esc(name) + "/oncall"
	if !at.IsZero() {
		path += "?at=" + url.QueryEscape(at.Format(time.RFC3339))
	}
	var out api.OnCall
	err := c.do(ctx, call{method: http.MethodGet, path: path, out: &out})
	return out, err
}

// AddOverride has someone cover a rotation for a while.
func (c *Client) AddOverride(ctx context.Context, name string, req api.OverrideRequest) (api.Override, error) {
	var out api.Override
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/rotations/" + esc(name) + "/overrides", body: req, out: &out})
	return out, err
}

// Overrides lists a rotation's overrides: those not over yet, or all.
func (c *Client) Overrides(ctx context.Context, name string, all bool) ([]api.Override, error) {
	path := "/api/v1/rotations/" + esc(name) + "/overrides"
	if all {
		path += "?all=true"
	}
	var out api.OverrideList
	err := c.do(ctx, call{method: http.MethodGet, path: path, out: &out})
	return out.Overrides, err
}

// RemoveOverride removes an override.
func (c *Client) RemoveOverride(ctx context.Context, name string, id int64) (api.Override, error) {
	var out api.Override
	err := c.do(ctx, call{method: http.MethodDelete, path: "/api/v1/rotations/" + esc(name) + "/overrides/" + strconv.FormatInt(id, 10), out: &out})
	return out, err
}

// Calendar writes a rotation's next weeks of shifts to w as iCalendar.
func (c *Client) Calendar(ctx context.Context, name string, weeks int, w io.Writer) error {
	return c.do(ctx, call{method: http.MethodGet, path: "/api/v1/rotations/" + esc(name) + ".ics?weeks=" + strconv.Itoa(weeks), raw: w})
}

// CreateChannel creates an SMS channel. An empty req.RequestID gets a fresh
// one, kept across the client's retries: a retry gets the same channel.
func (c *Client) CreateChannel(ctx context.Context, req api.CreateChannelRequest) (api.ChannelCreated, error) {
	if req.RequestID == "" {
		req.RequestID = NewRequestID("cli")
	}
	var out api.ChannelCreated
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/channels", body: req, out: &out, timeout: channelTimeout, idempotencyKey: req.RequestID})
	return out, err
}

// Channels lists the live channels.
func (c *Client) Channels(ctx context.Context) ([]api.Channel, error) {
	var out api.ChannelList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/channels", out: &out})
	return out.Channels, err
}

// Channel returns a channel's counts and latest broadcasts.
func (c *Client) Channel(ctx context.Context, phone string) (api.ChannelDetail, error) {
	var out api.ChannelDetail
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/channels/" + esc(phone), out: &out})
	return out, err
}

// DeleteChannel deletes a channel.
func (c *Client) DeleteChannel(ctx context.Context, phone string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/api/v1/channels/" + esc(phone)})
}

// AddNumber puts a number the maintainers own into the reserve pool.
func (c *Client) AddNumber(ctx context.Context, phone string) (api.Number, error) {
	var out api.Number
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/numbers", body: api.AddNumberRequest{Phone: phone}, out: &out})
	return out, err
}

// Numbers lists the reserve pool and its counts.
func (c *Client) Numbers(ctx context.Context) (api.NumberList, error) {
	var out api.NumberList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/numbers", out: &out})
	return out, err
}

// Provision buys numbers for the pool. An empty req.RequestID gets a fresh
// one, kept across the client's retries: a retry buys nothing twice.
func (c *Client) Provision(ctx context.Context, req api.ProvisionRequest) (api.ProvisionResult, error) {
	if req.RequestID == "" {
		req.RequestID = NewRequestID("cli")
	}
	var out api.ProvisionResult
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/numbers/provision", body: req, out: &out, timeout: provisionTimeout, idempotencyKey: req.RequestID})
	return out, err
}

// SyncDirectory synchronises the users with the directory now and returns
// what changed. It is not retried: a directory that is down answers 503 at
// once, with the reason.
func (c *Client) SyncDirectory(ctx context.Context) (api.DirectorySync, error) {
	var out api.DirectorySync
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/directory/sync", out: &out, timeout: directoryTimeout})
	return out, err
}
