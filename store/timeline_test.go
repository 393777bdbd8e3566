package store

import (
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
)

func TestOrderTimeline_CausalWithinAMessageTimeAcrossThem(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	call := "page/2/0/1/voice"
	tests := []struct {
		name string
		in   []paging.Event
		want []string
	}{
		{"in-progress recorded before ringing", []paging.Event{
			{Kind: paging.EventCreated, At: at(0)},
			{Kind: paging.EventNotified, MessageID: call, At: at(10)},
			deliveryAt(call, klaxon.StatusAnswered, at(20)),
			deliveryAt(call, klaxon.StatusRinging, at(21)),
			deliveryAt(call, klaxon.StatusCompleted, at(30)),
		}, []string{"created", "notified", "delivery ringing", "delivery in-progress", "delivery completed"}},
		{"a status recorded before its notification", []paging.Event{
			{Kind: paging.EventCreated, At: at(0)},
			deliveryAt(call, klaxon.StatusRinging, at(5)),
			{Kind: paging.EventNotified, MessageID: call, At: at(10)},
			{Kind: paging.EventAcked, At: at(40)},
		}, []string{"created", "notified", "delivery ringing", "acked"}},
		{"other messages keep their times", []paging.Event{
			{Kind: paging.EventNotified, MessageID: "page/2/0/0/sms", At: at(1)},
			{Kind: paging.EventNotified, MessageID: call, At: at(2)},
			deliveryAt("page/2/0/0/sms", klaxon.StatusDelivered, at(3)),
			{Kind: paging.EventCanceled, MessageID: "page/2/0/2/email", At: at(4)},
		}, []string{"notified", "notified", "delivery delivered", "canceled"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := append([]paging.Event(nil), tc.in...)
			OrderTimeline(evs)
			var got []string
			for _, e := range evs {
				s := e.Kind
				if e.Kind == paging.EventDelivery {
					s += " " + e.Detail
				}
				got = append(got, s)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %q, want %q", got, tc.want)
				}
			}
			for i := 1; i < len(evs); i++ {
				if evs[i].At.Before(evs[i-1].At) {
					t.Errorf("%s at %s comes after %s at %s", evs[i].Kind, evs[i].At, evs[i-1].Kind, evs[i-1].At)
				}
			}
		})
	}
}

// deliveryAt is a delivery entry recorded at a time.
func deliveryAt(messageID, status string, at time.Time) paging.Event {
	e := DeliveryEvent(messageID, klaxon.Voice, "+15555550123", status, "", "")
	e.At = at
	return e
}
