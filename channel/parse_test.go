package channel

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

const badNumber = "'ABC' is not a valid phone number. Phone numbers must include country codes prefixed by a '+'."

func TestParse(t *testing.T) {
	admin := Context{Role: RoleAdmin}
	sub := Context{Role: RoleSubscriber}
	stranger := Context{Role: RoleStranger}
	signup := Context{Role: RoleStranger, Signup: true}
	signupAdmin := Context{Role: RoleAdmin, Signup: true}
	tests := []struct {
		name string
		body string
		ctx  Context
		want Command
	}{
		{"help", "HELP", sub, Command{Kind: KindHelp}},
		{"help lower with spaces and punctuation", "  help!  ", stranger, Command{Kind: KindHelp}},
		{"help followed by words is a message", "help me please", sub, Command{Kind: KindMessage}},
		{"help glued to digits is a message", "help2", sub, Command{Kind: KindMessage}},
		{"info", "Info.", admin, Command{Kind: KindInfo}},
		{"join", "join", stranger, Command{Kind: KindJoin}},
		{"hello joins", "Hello!", stranger, Command{Kind: KindJoin}},
		{"hello there is a message", "hello there", stranger, Command{Kind: KindMessage}},
		{"leave", "LEAVE", sub, Command{Kind: KindLeave}},
		{"goodbye leaves", "goodbye :(", sub, Command{Kind: KindLeave}},
		{"stop opts out", "Stop", sub, Command{Kind: KindOptOut}},
		{"unsubscribe opts out", "UNSUBSCRIBE", sub, Command{Kind: KindOptOut}},
		{"start opts in", "start", sub, Command{Kind: KindOptIn}},
		{"stop with a bang opts out", " STOP! ", sub, Command{Kind: KindOptOut}},
		{"stop with a question is a message", "stop?", sub, Command{Kind: KindMessage}},
		{"quoted stop is a message", `"stop"`, sub, Command{Kind: KindMessage}},
		{"stop the war is a message", "stop the war", sub, Command{Kind: KindMessage}},
		{"empty is a message", "   ", sub, Command{Kind: KindMessage}},
		{"plain text is a message", "is anyone there?", sub, Command{Kind: KindMessage}},
		{"joining is not join", "joining the march", sub, Command{Kind: KindMessage}},
		{"leading quote tolerated", `"help"`, sub, Command{Kind: KindHelp}},

		{"broadcast", "BROADCAST march at noon", admin, Command{Kind: KindBroadcast, Text: "march at noon"}},
		{"broadcast with colon keeps text", "broadcast: Meet at 5, bring water!", admin, Command{Kind: KindBroadcast, Text: "Meet at 5, bring water!"}},
		{"broadcast multi-line", "Broadcast line one\nline two", admin, Command{Kind: KindBroadcast, Text: "line one\nline two"}},
		{"bang shorthand", "! march at noon", admin, Command{Kind: KindBroadcast, Text: "march at noon"}},
		{"bang shorthand glued", "!march", admin, Command{Kind: KindBroadcast, Text: "march"}},
		{"broadcast without text", "BROADCAST", admin, Command{Kind: KindInvalid, Error: BroadcastUsageText()}},
		{"bang without text", "!  ", admin, Command{Kind: KindInvalid, Error: BroadcastUsageText()}},
		{"broadcast from subscriber", "BROADCAST hi all", sub, Command{Kind: KindAdminOnly}},
		{"bang from subscriber is a message", "! hi all", sub, Command{Kind: KindMessage}},
		{"hotline on", "hotline on", admin, Command{Kind: KindHotlineOn}},
		{"hotline off with punctuation", " HOTLINE OFF. ", admin, Command{Kind: KindHotlineOff}},
		{"hotline alone", "HOTLINE", admin, Command{Kind: KindInvalid, Error: HotlineUsageText()}},
		{"hotline on from stranger", "hotline on", stranger, Command{Kind: KindAdminOnly}},
		{"hotline words from stranger are a message", "hotline please help", stranger, Command{Kind: KindMessage}},
		{"add", "ADD +1 (555) 123-4567", admin, Command{Kind: KindAdd, Number: "+15551234567"}},
		{"add trailing period", "add +15551234567.", admin, Command{Kind: KindAdd, Number: "+15551234567"}},
		{"add bad number", "ADD ABC", admin, Command{Kind: KindInvalid, Error: badNumber}},
		{"add nothing", "ADD", admin, Command{Kind: KindInvalid, Error: AddUsageText()}},
		{"add me from subscriber is a message", "add me please", sub, Command{Kind: KindMessage}},
		{"add number from subscriber", "ADD +15551234567", sub, Command{Kind: KindAdminOnly}},
		{"remove", "remove +15551234567", admin, Command{Kind: KindRemove, Number: "+15551234567"}},
		{"reply", "REPLY @K3x9 we are on it", admin, Command{Kind: KindReply, HotlineID: "@k3x9", Text: "we are on it"}},
		{"reply colon", "reply @k3x9: ok!", admin, Command{Kind: KindReply, HotlineID: "@k3x9", Text: "ok!"}},
		{"reply without id", "REPLY thanks", admin, Command{Kind: KindInvalid, Error: ReplyUsageText()}},
		{"reply without text", "REPLY @k3x9", admin, Command{Kind: KindInvalid, Error: ReplyUsageText()}},

		{"request on signup", "REQUEST", signup, Command{Kind: KindRequest}},
		{"request lower on signup", " request. ", signup, Command{Kind: KindRequest}},
		{"request with words on signup is a message", "REQUEST for supplies", signup, Command{Kind: KindMessage}},
		{"request with words from signup admin is a message", "REQUEST for supplies", signupAdmin, Command{Kind: KindMessage}},
		{"request elsewhere is a message", "REQUEST", sub, Command{Kind: KindMessage}},
		{"request for supplies elsewhere is a message", "REQUEST for supplies", stranger, Command{Kind: KindMessage}},
		{"channel elsewhere is a message", "CHANNEL +15551234567", admin, Command{Kind: KindMessage}},
		{"channel", "CHANNEL +15551234567, +15557654321", signup, Command{Kind: KindChannel, Admins: []string{"+15551234567", "+15557654321"}}},
		{"channel seed example without space", "CHANNEL +1222333444,+14443332222", signup, Command{Kind: KindChannel, Admins: []string{"+1222333444", "+14443332222"}}},
		{"channel lower and trailing comma", "channel +15551234567,", signup, Command{Kind: KindChannel, Admins: []string{"+15551234567"}}},
		{"channel spaces instead of commas", "CHANNEL +15551234567 +15557654321", signup, Command{Kind: KindChannel, Admins: []string{"+15551234567", "+15557654321"}}},
		{"channel number with spaces", "CHANNEL +1 555 123 4567", signup, Command{Kind: KindChannel, Admins: []string{"+15551234567"}}},
		{"channel duplicates collapse", "CHANNEL +15551234567, +1 555 123 4567", signup, Command{Kind: KindChannel, Admins: []string{"+15551234567"}}},
		{"channel from admin", "Channel: +15551234567", signupAdmin, Command{Kind: KindChannel, Admins: []string{"+15551234567"}}},
		{"channel ABC", "CHANNEL ABC", signup, Command{Kind: KindInvalid, Error: badNumber}},
		{"channel bad second entry", "CHANNEL +15551234567, ABC", signup, Command{Kind: KindInvalid, Error: badNumber}},
		{"channel without list", "CHANNEL", signup, Command{Kind: KindInvalid, Error: ChannelFormatText()}},
		{"channel with words", "CHANNEL for my group please", signup, Command{Kind: KindInvalid, Error: ChannelFormatText()}},
		{"channel empty entry", "CHANNEL +15551234567,, +15557654321", signup, Command{Kind: KindInvalid, Error: EmptyEntryText()}},
		{"channel number without plus", "CHANNEL 5551234567", signup, Command{Kind: KindInvalid,
			Error: "'5551234567' is not a valid phone number. Phone numbers must include country codes prefixed by a '+'."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.body, tt.ctx)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.body, got, tt.want)
			}
		})
	}
}

func TestParse_TooManyAdmins(t *testing.T) {
	var nums []string
	for i := range MaxAdmins + 3 {
		nums = append(nums, "+1555123"+string(rune('0'+i/10))+string(rune('0'+i%10))+"00")
	}
	got := Parse("CHANNEL "+strings.Join(nums, ", "), Context{Signup: true})
	if got.Kind != KindInvalid || got.Error != TooManyAdminsText(MaxAdmins+3) {
		t.Fatalf("got %+v", got)
	}
	got = Parse("CHANNEL "+strings.Join(nums[:MaxAdmins], ", "), Context{Signup: true})
	if got.Kind != KindChannel || len(got.Admins) != MaxAdmins {
		t.Fatalf("at the limit: got %+v", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"HELP", "CHANNEL +15551234567, +15557654321", "CHANNEL ABC", "! hi", "REPLY @abc hi",
		"ADD +1 555 123 4567", "hotline on", "REQUEST for supplies", "\u200bhelp", "CHANNEL ,,,", "!", "@", "+"} {
		f.Add(s, true, 0)
	}
	roles := []Role{RoleAdmin, RoleSubscriber, RoleStranger}
	f.Fuzz(func(t *testing.T, body string, signup bool, role int) {
		if role < 0 {
			role = -role
		}
		c := Context{Role: roles[role%len(roles)], Signup: signup}
		got := Parse(body, c)
		switch got.Kind {
		case KindInvalid:
			if got.Error == "" {
				t.Fatalf("invalid without an error for %q", body)
			}
		case KindChannel:
			if !signup || len(got.Admins) == 0 || len(got.Admins) > MaxAdmins {
				t.Fatalf("bad CHANNEL result %+v for %q", got, body)
			}
		case KindRequest:
			if !signup {
				t.Fatalf("REQUEST off the signup channel for %q", body)
			}
		case KindBroadcast, KindReply, KindAdd, KindRemove, KindHotlineOn, KindHotlineOff:
			if c.Role != RoleAdmin {
				t.Fatalf("admin command %v for a %q for %q", got.Kind, c.Role, body)
			}
		}
		if (got.Kind == KindBroadcast || got.Kind == KindReply) && got.Text == "" {
			t.Fatalf("empty text for %q", body)
		}
		if utf8.ValidString(body) && !utf8.ValidString(got.Text) {
			t.Fatalf("text became invalid UTF-8 for %q", body)
		}
		// Parsing is pure: the same input gives the same command.
		if again := Parse(body, c); !reflect.DeepEqual(again, got) {
			t.Fatalf("not deterministic for %q", body)
		}
	})
}
