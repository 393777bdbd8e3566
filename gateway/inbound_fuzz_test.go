package gateway

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/phone"
)

// FuzzParseInboundSMS feeds arbitrary form bodies to the inbound-SMS
// parser: it never panics, refuses with a clear EInvalid sentence, and what
// it accepts fits the database (a letters-and-digits sid, E.164 numbers, at
// most 1600 characters of valid UTF-8 without NUL).
//
//	go test ./gateway -run '^$' -fuzz FuzzParseInboundSMS -fuzztime 60s
func FuzzParseInboundSMS(f *testing.F) {
	f.Add("MessageSid=SM123&From=%2B15555550123&To=%2B15555550100&Body=3a", "US")
	f.Add("MessageSid=SM1&From=5555550123&To=%2B15555550100&Body=", "US")
	f.Add("SmsMessageSid=MM9&From=%2B447700900123&To=%2B15555550100&Body=%00%ff", "GB")
	f.Add("MessageSid=SM1&MessageSid=SM2&From=%2B1&To=x", "")
	f.Add("From=%2B15555550123&To=%2B15555550100&Body="+strings.Repeat("a", 1700), "US")
	f.Add("MessageSid=%zz", "US")
	f.Fuzz(func(t *testing.T, body, region string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return // the middleware answers 400 before the handler
		}
		ev, err := parseInboundSMS(form, region)
		if err != nil {
			if klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
				t.Fatalf("refusal %v is not EInvalid", err)
			}
			msg := klaxon.ErrorMessageOf(err)
			if msg == "" || !strings.HasSuffix(msg, ".") || strings.Contains(msg, "\n") {
				t.Fatalf("refusal %q is not one clear sentence", msg)
			}
			return
		}
		if !validSID(ev.DedupKey) || ev.Kind != "sms" {
			t.Fatalf("accepted a bad sid %q", ev.DedupKey)
		}
		if !phone.IsE164(ev.From) || !phone.IsE164(ev.To) {
			t.Fatalf("accepted numbers %q, %q that are not E.164", ev.From, ev.To)
		}
		if !utf8.ValidString(ev.Body) || strings.ContainsRune(ev.Body, 0) || utf8.RuneCountInString(ev.Body) > klaxon.MaxBodyLen {
			t.Fatalf("accepted a body the database would refuse: %q", ev.Body)
		}
	})
}
