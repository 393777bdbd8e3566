package main

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/client"
)

// The typed client reads every field the gateway writes: decoding each
// answer into its api type and encoding it again gives back the same JSON,
// so `show --json` hides nothing. An answer the gateway builds outside
// package api (a map, a local struct with one more field) fails here; and
// an error answer reaches the caller as a *client.Error.
func TestE2E_Client_WireTypesHoldEveryField(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	rotationPerson(t, h, "alice", "+15555550261")
	rotationPerson(t, h, "bob", "+15555550262")
	h.addPool(2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(h.baseURL, hToken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateRotation(ctx, api.CreateRotationRequest{Name: "ops", Timezone: "Europe/Berlin", Members: []string{"alice", "bob"}, ShiftDays: ptr(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddOverride(ctx, "ops", api.OverrideRequest{User: "bob", End: time.Now().Add(time.Hour).Format(time.RFC3339)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePolicy(ctx, api.PolicyRequest{Name: "db", Steps: []api.PolicyStep{{Targets: []string{"rotation:ops"}, DelaySeconds: 60}}}); err != nil {
		t.Fatal(err)
	}
	pg, err := c.CreatePage(ctx, api.CreatePageRequest{Target: "user:alice", Summary: "disk full", Details: "db-1", DedupKey: "disk"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ack(ctx, pg.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	msg, err := c.SendMessage(ctx, api.CreateMessageRequest{Channel: "sms", To: "+15555550263", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := c.CreateChannel(ctx, api.CreateChannelRequest{Admins: []string{"+15555550264"}})
	if err != nil {
		t.Fatal(err)
	}
	h.waitText("+15555550263", "hello")

	for _, tc := range []struct {
		path string
		into any
	}{
		{"/api/v1/users", &api.UserList{}},
		{"/api/v1/users/alice", &api.UserDetail{}},
		{"/api/v1/users/alice/contacts", &api.ContactList{}},
		{"/api/v1/users/alice/notification-rules", &api.NotificationRules{}},
		{"/api/v1/pages", &api.PageList{}},
		{"/api/v1/pages/1", &api.PageDetail{}},
		{"/api/v1/policies", &api.PolicyList{}},
		{"/api/v1/policies/db", &api.Policy{}},
		{"/api/v1/messages/" + msg.ID, &api.Message{}},
		{"/api/v1/rotations", &api.RotationList{}},
		{"/api/v1/rotations/ops?shifts=3", &api.Rotation{}},
		{"/api/v1/rotations/ops/oncall", &api.OnCall{}},
		{"/api/v1/rotations/ops/overrides", &api.OverrideList{}},
		{"/api/v1/channels", &api.ChannelList{}},
		{"/api/v1/channels/" + phone.Phone, &api.ChannelDetail{}},
		{"/api/v1/numbers", &api.NumberList{}},
	} {
		var raw json.RawMessage
		if code := h.api(http.MethodGet, tc.path, nil, &raw); code != http.StatusOK {
			t.Errorf("GET %s: %d", tc.path, code)
			continue
		}
		if err := json.Unmarshal(raw, tc.into); err != nil {
			t.Errorf("GET %s: decode into %T: %v", tc.path, tc.into, err)
			continue
		}
		again, err := json.Marshal(tc.into)
		if err != nil {
			t.Fatal(err)
		}
		var want, got any
		_ = json.Unmarshal(raw, &want)
		_ = json.Unmarshal(again, &got)

		if !reflect.DeepEqual(want, got) {
			t.Errorf("GET %s: %T loses or changes fields:\n gateway %s\n    type %s", tc.path, tc.into, raw, again)
		}
	}

	// An error answer is a *client.Error with the status and the sentence.
	_, err = c.Rotation(ctx, "nope", 0)
	if client.StatusOf(err) != http.StatusNotFound || err.Error() != `There is no rotation named "nope".` {
		t.Errorf("unknown rotation: %v (status %d)", err, client.StatusOf(err))
	}
}

func ptr[T any](v T) *T { return &v }
