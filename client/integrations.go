package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/klaxonhq/klaxon/api"
)

// CreateService adds a service; the answer carries its key, shown once.
func (c *Client) CreateService(ctx context.Context, req api.ServiceRequest) (api.Service, error) {
	var out api.Service
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/services", body: req, out: &out})
	return out, err
}

// Services lists every service (without keys).
func (c *Client) Services(ctx context.Context) ([]api.Service, error) {
	var out api.ServiceList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/services", out: &out})
	return out.Services, err
}

// Service returns one service (without its key).
func (c *Client) Service(ctx context.Context, name string) (api.Service, error) {
	var out api.Service
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/services/" + esc(name), out: &out})
	return out, err
}

// RotateServiceKey gives a service a new key, shown once; the old one stops
// working at once.
func (c *Client) RotateServiceKey(ctx context.Context, name string) (api.Service, error) {
	var out api.Service
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/services/" + esc(name) + "/rotate-key", out: &out})
	return out, err
}

// DeleteService removes a service; its pages stay.
func (c *Client) DeleteService(ctx context.Context, name string) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/api/v1/services/" + esc(name)})
}

// Subscribe adds a "send me an SMS when …" for a user.
func (c *Client) Subscribe(ctx context.Context, handle string, req api.SubscriptionRequest) (api.Subscription, error) {
	var out api.Subscription
	err := c.do(ctx, call{method: http.MethodPost, path: "/api/v1/users/" + esc(handle) + "/subscriptions", body: req, out: &out})
	return out, err
}

// Subscriptions lists a user's subscriptions.
func (c *Client) Subscriptions(ctx context.Context, handle string) ([]api.Subscription, error) {
	var out api.SubscriptionList
	err := c.do(ctx, call{method: http.MethodGet, path: "/api/v1/users/" + esc(handle) + "/subscriptions", out: &out})
	return out.Subscriptions, err
}

// Unsubscribe removes one of a user's subscriptions.
func (c *Client) Unsubscribe(ctx context.Context, handle string, id int64) error {
	return c.do(ctx, call{method: http.MethodDelete, path: "/api/v1/users/" + esc(handle) + "/subscriptions/" + strconv.FormatInt(id, 10)})
}
