package channel

import (
	"strings"
	"testing"
)

// The signup flow's texts, word for word, for the brand "Acme" and links
// of its own.
const (
	wantRequest = "Hi there! Want to create a Acme channel? \n\nAcme is a technology that allows you to send broadcasts and receive hotline messages without revealing your phone number to recipients.\n\nThis means you trust us to be good stewards of the phone numbers of everyone who uses your channel:\nhttps://acme.example/privacy \n\nNow, if you'd like to create a channel, send CHANNEL followed by a comma-separated list of the admin phone numbers for that channel, for example:\n\nCHANNEL +1555123412, +1555123419"
	wantCreated = "Your Acme channel has been created! In a moment, you should receive a welcome message from your channel phone number:\n+15551111234.\n\nIf you have questions or have issues accessing your channel, you can message Acme support here."
	wantWelcome = "Welcome! You were just made an admin of this Acme channel by +15550001111. \n\n1. Add this phone number (+15551111234) to your contacts. \n2. Send HELP to see what commands you can use.\n3. Send INFO to see how many admins and subscribers are on this channel.\n4. Check out the following resources:\n- https://acme.example/how-to\n- https://social.example/acme\n- https://acme.example/privacy\n\np.s. It costs money to run each channel. If you can afford to, please consider making a donation to keep Acme running: https://acme.example/donate"
	wantLow     = "New channel created.  \n- `7` available phone numbers \n- `123` active channels "
	wantFailed  = "Channel creation failed.\n- `0` available phone numbers   \n- `123` active channels "
	wantNotAcc  = "Sorry, Acme is not accepting new channel requests at the moment. Please check again later."
	wantMaint   = "A new channel was just created. There are now `123` active channels."
	wantProvErr = "Error provisioning a new phone number for channel request: `err message here`"
	wantSorry   = "Sorry, there was an issue while processing your request. Please try again later."
)

var acmeLinks = Links{Privacy: "https://acme.example/privacy", HowTo: "https://acme.example/how-to", Social: "https://social.example/acme", Donate: "https://acme.example/donate"}

func TestTexts_WordForWordWithTheOperatorsLinks(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"request", RequestText("Acme", acmeLinks), wantRequest},
		{"created", CreatedText("Acme", "+15551111234"), wantCreated},
		{"welcome", WelcomeAdminText("Acme", "+15550001111", "+15551111234", acmeLinks), wantWelcome},
		{"maintainers", MaintainersCreatedText(123), wantMaint},
		{"low reserve", DiagnosticsLowReserveText(7, 123), wantLow},
		{"not accepting", NotAcceptingText("Acme"), wantNotAcc},
		{"creation failed", DiagnosticsCreationFailedText(0, 123), wantFailed},
		{"provisioning error", ProvisionErrorText("err message here"), wantProvErr},
		{"request failed", RequestFailedText(), wantSorry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("text differs:\n got %q\nwant %q", tt.got, tt.want)
			}
		})
	}
}

func TestTexts_ALineWithoutItsLinkIsLeftOut(t *testing.T) {
	req := RequestText("Klaxon", Links{})
	if strings.Contains(req, "stewards") || strings.Contains(req, "http") || !strings.HasSuffix(req, "CHANNEL +1555123412, +1555123419") {
		t.Errorf("request without a privacy link:\n%s", req)
	}
	welcome := WelcomeAdminText("Klaxon", "the Klaxon team", "+15551111234", Links{})
	if strings.Contains(welcome, "resources") || strings.Contains(welcome, "p.s.") || strings.Contains(welcome, "http") ||
		!strings.HasSuffix(welcome, "3. Send INFO to see how many admins and subscribers are on this channel.") {
		t.Errorf("welcome without links:\n%s", welcome)
	}
	some := WelcomeAdminText("Klaxon", "the Klaxon team", "+15551111234", Links{Social: "https://social.example/k"})
	if !strings.HasSuffix(some, "4. Check out the following resources:\n- https://social.example/k") {
		t.Errorf("welcome with one link:\n%s", some)
	}
}

func TestHelpText_ByRole(t *testing.T) {
	if !strings.Contains(HelpText(RoleAdmin, false), "BROADCAST") {
		t.Error("admin help lacks BROADCAST")
	}
	if strings.Contains(HelpText(RoleSubscriber, false), "BROADCAST") {
		t.Error("subscriber help lists an admin command")
	}
	if !strings.Contains(HelpText(RoleStranger, true), "CHANNEL +") {
		t.Error("signup help lacks CHANNEL")
	}
}

func TestMarkedTexts_FitOneConcatenatedSMS(t *testing.T) {
	long := strings.Repeat("é", MaxTextLen)
	for _, got := range []string{HotlineMessageText("@abcd", long), BroadcastCopyText(long), PrivateReplyText(long), ReplyCopyText("@abcd", long)} {
		if n := len([]rune(got)); n != MaxTextLen || !strings.HasSuffix(got, "…") {
			t.Errorf("%d runes, ends %q", n, got[len(got)-8:])
		}
	}
	if got := HotlineMessageText("@abcd", "hi"); got != "[HOTLINE @abcd] hi" {
		t.Errorf("short text changed: %q", got)
	}
}
