package simulator_test

import (
	"net/url"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

func TestSignature_AcceptedByTwilioValidator(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		params url.Values
	}{
		{"post with params", "https://klaxon.example.com/twilio/sms", url.Values{
			"From": {"+15555550123"}, "To": {"+14155550100"}, "Body": {"3a & more = yes"}, "AccountSid": {testSID},
		}},
		{"post to a url with a query", "http://localhost:8080/twilio/voice?m=msg%201", url.Values{"CallSid": {"CA1"}, "Digits": {"1"}}},
		{"no params", "http://127.0.0.1:9/x", nil},
	}
	v := client.NewRequestValidator(testToken)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := simulator.Signature(testToken, tt.url, tt.params)
			if !v.ValidateBody(tt.url, []byte(tt.params.Encode()), sig) {
				t.Errorf("twilio-go rejects signature %q", sig)
			}
			if other := client.NewRequestValidator("another-token"); other.ValidateBody(tt.url, []byte(tt.params.Encode()), sig) {
				t.Error("a signature made with one token validates with another")
			}
		})
	}
}
