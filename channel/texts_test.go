package channel

import (
	"strings"
	"testing"
)

// The seed's texts, as seed 002 prints them, with "Signalboost" still in
// place: the tests substitute the brand the way the product does.
const (
	seedRequest = "Hi there! Want to create a Signalboost channel? \n\nSignalboost is a technology that allows you to send broadcasts and receive hotline messages without revealing your phone number to recipients.\n\nThis means you trust us to be good stewards of the phone numbers of everyone who uses your channel:\nhttps://signalboost.info/privacy \n\nNow, if you'd like to create a channel, send CHANNEL followed by a comma-separated list of the admin phone numbers for that channel, for example:\n\nCHANNEL +1555123412, +1555123419"
	seedCreated = "Your Signalboost channel has been created! In a moment, you should receive a welcome message from your channel phone number:\n+15551111234.\n\nIf you have questions are have issues accessing your channel, you can message Signalboost support here."
	seedWelcome = "Welcome! You were just made an admin of this Signalboost channel by ${addingAdmin}. \n\n1. Add this phone number (${channelPhoneNumber}) to your contacts. \n2. Send HELP to see what commands you can use.\n3. Send INFO to see how many admins and subscribers are on this channel.\n4. Check out the following resources:\n- https://signalboost.info/how-to\n- https://www.instagram.com/_signalboost/\n- https://signalboost.info/privacy/\n\np.s. It costs us ~$3/month to run each channel. Since we make this software for liberation, not profit, we rely on the material support of our community to keep the project afloat. If you can afford to, please consider making a donation here: https://signalboost.info/donate 💸"
	seedLow     = "New channel created.  \n- `7` available phone numbers \n- `123` active channels "
	seedFailed  = "Channel creation failed.\n- `0` available phone numbers   \n- `123` active channels "
	seedNotAcc  = "Sorry, Signalboost is not accepting new channel requests at the moment. Please check again later."
	seedMaint   = "A new channel was just created. There are now `123` active channels."
	seedProvErr = "Error provisioning a new phone number for channel request: `err message here`"
	seedSorry   = "Sorry, there was an issue while processing your request. Please try again later."
)

// brand replaces the brand word of the seed, leaving the links alone.
func brand(s, name string) string {
	return strings.ReplaceAll(s, "Signalboost", name)
}

func TestTexts_MatchSeedWordForWord(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"request", RequestText("Klaxon"), brand(seedRequest, "Klaxon")},
		{"request with the seed brand", RequestText("Signalboost"), seedRequest},
		{"created", CreatedText("Klaxon", "+15551111234"), brand(seedCreated, "Klaxon")},
		{"welcome", WelcomeAdminText("Klaxon", "+15550001111", "+15551111234"),
			strings.NewReplacer("${addingAdmin}", "+15550001111", "${channelPhoneNumber}", "+15551111234").Replace(brand(seedWelcome, "Klaxon"))},
		{"welcome keeps the links", WelcomeAdminText("Signalboost", "${addingAdmin}", "${channelPhoneNumber}"), seedWelcome},
		{"maintainers", MaintainersCreatedText(123), seedMaint},
		{"low reserve", DiagnosticsLowReserveText(7, 123), seedLow},
		{"not accepting", NotAcceptingText("Signalboost"), seedNotAcc},
		{"creation failed", DiagnosticsCreationFailedText(0, 123), seedFailed},
		{"provisioning error", ProvisionErrorText("err message here"), seedProvErr},
		{"request failed", RequestFailedText(), seedSorry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("text differs from the seed:\n got %q\nwant %q", tt.got, tt.want)
			}
		})
	}
}

func TestTexts_LinksKeepTheSeedsDomain(t *testing.T) {
	if !strings.Contains(RequestText("Klaxon"), "https://signalboost.info/privacy ") {
		t.Fatal("the privacy link changed")
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
