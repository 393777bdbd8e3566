package simulator_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

func TestNumbers_SearchBuyUpdateRelease(t *testing.T) {
	e := newEnv(t)
	search := func() []string {
		t.Helper()
		list, err := e.api.ListAvailablePhoneNumberLocal("US",
			(&openapi.ListAvailablePhoneNumberLocalParams{}).SetAreaCode(212).SetSmsEnabled(true).SetLimit(5))
		if err != nil {
			t.Fatalf("search: %v", err)
		}
		var out []string
		for _, n := range list {
			if !strings.HasPrefix(*n.PhoneNumber, "+1212555") || *n.IsoCountry != "US" || !n.Capabilities.Sms || !n.Capabilities.Voice {
				t.Errorf("available number = %s %s %+v", *n.PhoneNumber, *n.IsoCountry, n.Capabilities)
			}
			out = append(out, *n.PhoneNumber)
		}
		return out
	}

	first := search()
	if len(first) != 5 || first[0] != "+12125550100" {
		t.Fatalf("available = %v, want 5 numbers starting +12125550100", first)
	}
	if again := search(); !slices.Equal(first, again) {
		t.Errorf("search is not deterministic: %v then %v", first, again)
	}

	bought, err := e.api.CreateIncomingPhoneNumber((&openapi.CreateIncomingPhoneNumberParams{}).
		SetPhoneNumber(first[0]).SetSmsUrl(e.hooks.URL + "/twilio/sms").SetSmsMethod("POST").
		SetVoiceUrl(e.hooks.URL + "/twilio/voice").SetFriendlyName("channel"))
	if err != nil {
		t.Fatalf("buy: %v", err)
	}
	if !strings.HasPrefix(*bought.Sid, "PN") || len(*bought.Sid) != 34 || *bought.PhoneNumber != first[0] ||
		*bought.SmsUrl != e.hooks.URL+"/twilio/sms" || *bought.FriendlyName != "channel" || !bought.Capabilities.Sms {
		t.Errorf("bought = %+v", bought)
	}
	if after := search(); slices.Contains(after, first[0]) {
		t.Errorf("a bought number is still offered: %v", after)
	}

	_, err = e.api.CreateIncomingPhoneNumber((&openapi.CreateIncomingPhoneNumberParams{}).SetPhoneNumber(first[0]))
	var rerr *client.TwilioRestError
	if !errors.As(err, &rerr) || rerr.Status != 400 || rerr.Code != 21422 {
		t.Errorf("buying an owned number: err = %v, want 400 code 21422", err)
	}

	byArea, err := e.api.CreateIncomingPhoneNumber((&openapi.CreateIncomingPhoneNumberParams{}).SetAreaCode("212"))
	if err != nil {
		t.Fatalf("buy by area code: %v", err)
	}
	if *byArea.PhoneNumber != first[1] {
		t.Errorf("bought by area code %s, want the next available %s", *byArea.PhoneNumber, first[1])
	}

	listed, err := e.api.ListIncomingPhoneNumber((&openapi.ListIncomingPhoneNumberParams{}).SetPhoneNumber(first[0]))
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(listed) != 1 || *listed[0].Sid != *bought.Sid {
		t.Errorf("listed = %v, want only %s", listed, *bought.Sid)
	}
	all, err := e.api.ListIncomingPhoneNumber(nil)
	if err != nil || len(all) != 2 {
		t.Errorf("list all = %d numbers, %v; want 2", len(all), err)
	}

	updated, err := e.api.UpdateIncomingPhoneNumber(*bought.Sid,
		(&openapi.UpdateIncomingPhoneNumberParams{}).SetSmsUrl(e.hooks.URL+"/elsewhere"))
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if *updated.SmsUrl != e.hooks.URL+"/elsewhere" || *updated.VoiceUrl != e.hooks.URL+"/twilio/voice" {
		t.Errorf("updated = sms %s voice %s", *updated.SmsUrl, *updated.VoiceUrl)
	}
	fetched, err := e.api.FetchIncomingPhoneNumber(*bought.Sid, nil)
	if err != nil || *fetched.SmsUrl != e.hooks.URL+"/elsewhere" {
		t.Errorf("fetched = %v, %v", fetched, err)
	}

	if err := e.api.DeleteIncomingPhoneNumber(*bought.Sid, nil); err != nil {
		t.Fatalf("release: %v", err)
	}
	_, err = e.api.FetchIncomingPhoneNumber(*bought.Sid, nil)
	if !errors.As(err, &rerr) || rerr.Status != 404 || rerr.Code != 20404 {
		t.Errorf("fetch released: err = %v, want 404 code 20404", err)
	}
	if after := search(); after[0] != first[0] {
		t.Errorf("a released number is not offered again: %v", after)
	}
}

func TestNumbers_RefusesLikeTwilio(t *testing.T) {
	tests := []struct {
		name   string
		params *openapi.CreateIncomingPhoneNumberParams
		code   int
	}{
		{"neither number nor area code", &openapi.CreateIncomingPhoneNumberParams{}, 21421},
		{"number not E.164", (&openapi.CreateIncomingPhoneNumberParams{}).SetPhoneNumber("4155550100"), 21421},
		{"magic unavailable number", (&openapi.CreateIncomingPhoneNumberParams{}).SetPhoneNumber("+15005550000"), 21422},
		{"bad area code", (&openapi.CreateIncomingPhoneNumberParams{}).SetAreaCode("012"), 21421},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.api.CreateIncomingPhoneNumber(tt.params)
			var rerr *client.TwilioRestError
			if !errors.As(err, &rerr) || rerr.Status != 400 || rerr.Code != tt.code {
				t.Fatalf("err = %v, want 400 code %d", err, tt.code)
			}
		})
	}
}

func TestNumbers_AreaCodeRunsOut(t *testing.T) {
	e := newEnv(t)
	for range 100 {
		if _, err := e.api.CreateIncomingPhoneNumber((&openapi.CreateIncomingPhoneNumberParams{}).SetAreaCode("303")); err != nil {
			t.Fatal(err)
		}
	}
	list, err := e.api.ListAvailablePhoneNumberLocal("US", (&openapi.ListAvailablePhoneNumberLocalParams{}).SetAreaCode(303))
	if err != nil || len(list) != 0 {
		t.Errorf("available after buying all = %d, %v; want none", len(list), err)
	}
	_, err = e.api.CreateIncomingPhoneNumber((&openapi.CreateIncomingPhoneNumberParams{}).SetAreaCode("303"))
	var rerr *client.TwilioRestError
	if !errors.As(err, &rerr) || rerr.Code != 21452 {
		t.Errorf("err = %v, want code 21452", err)
	}
}
