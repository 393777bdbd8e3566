package channel

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The signup flow's texts are kept line break for line break, with the
// brand (KLAXON_BRAND) where a product name stands, and each link or plea
// from the operator's configuration (Links): a line whose link is not
// configured is left out, and a lead-in with it when none of its links is.
// Texts the flow does not fix are written in the same plain, friendly voice.

// Links are the operator's links the signup texts point to; any may be
// empty.
type Links struct {
	// Privacy is the privacy policy (KLAXON_PRIVACY_URL).
	Privacy string
	// HowTo is a guide to using a channel (KLAXON_HOWTO_URL).
	HowTo string
	// Social is the project's social-media page (KLAXON_SOCIAL_URL).
	Social string
	// Donate is where to support the service (KLAXON_DONATE_URL); the
	// welcome's plea is sent only with it.
	Donate string
}

// RequestText answers REQUEST on the signup channel.
func RequestText(brand string, l Links) string {
	var b strings.Builder
	b.WriteString("Hi there! Want to create a " + brand + " channel? \n" +
		"\n" +
		brand + " is a technology that allows you to send broadcasts and receive hotline messages without revealing your phone number to recipients.\n" +
		"\n")
	if l.Privacy != "" {
		b.WriteString("This means you trust us to be good stewards of the phone numbers of everyone who uses your channel:\n" +
			l.Privacy + " \n" +
			"\n")
	}
	b.WriteString("Now, if you'd like to create a channel, send CHANNEL followed by a comma-separated list of the admin phone numbers for that channel, for example:\n" +
		"\n" +
		"CHANNEL +1555123412, +1555123419")
	return b.String()
}

// CreatedText tells the requester, from the signup channel, that their
// channel exists and which number it has.
func CreatedText(brand, channelPhone string) string {
	return "Your " + brand + " channel has been created! In a moment, you should receive a welcome message from your channel phone number:\n" +
		channelPhone + ".\n" +
		"\n" +
		"If you have questions or have issues accessing your channel, you can message " + brand + " support here."
}

// WelcomeAdminText welcomes a new admin, from the channel's own number.
// addingAdmin is who made them an admin: a fellow admin's number, or a
// phrase such as "the Klaxon team" (see AddedByTeam).
func WelcomeAdminText(brand, addingAdmin, channelPhone string, l Links) string {
	var b strings.Builder
	b.WriteString("Welcome! You were just made an admin of this " + brand + " channel by " + addingAdmin + ". \n" +
		"\n" +
		"1. Add this phone number (" + channelPhone + ") to your contacts. \n" +
		"2. Send HELP to see what commands you can use.\n" +
		"3. Send INFO to see how many admins and subscribers are on this channel.")
	var links []string
	for _, u := range []string{l.HowTo, l.Social, l.Privacy} {
		if u != "" {
			links = append(links, "- "+u)
		}
	}
	if len(links) > 0 {
		b.WriteString("\n4. Check out the following resources:\n" + strings.Join(links, "\n"))
	}
	if l.Donate != "" {
		b.WriteString("\n\np.s. It costs money to run each channel. If you can afford to, please consider making a donation to keep " + brand + " running: " + l.Donate)
	}
	return b.String()
}

// AddedByTeam is who the welcome says made someone an admin when no fellow
// admin did: a channel created by a maintainer (API or CLI), or requested
// by someone who is not among its admins. Admins never learn a
// maintainer's number, nor a stranger's.
func AddedByTeam(brand string) string { return "the " + brand + " team" }

// MaintainersCreatedText tells the maintainers, on the signup channel, that
// a channel was created: a count, never a number.
func MaintainersCreatedText(active int) string {
	return fmt.Sprintf("A new channel was just created. There are now `%d` active channels.", active)
}

// DiagnosticsLowReserveText warns the maintainers, on the diagnostics
// channel, that the reserve pool is at or below its size after a creation.
func DiagnosticsLowReserveText(available, active int) string {
	return fmt.Sprintf("New channel created.  \n- `%d` available phone numbers \n- `%d` active channels ", available, active)
}

// NotAcceptingText refuses a channel request when the pool is empty.
func NotAcceptingText(brand string) string {
	return "Sorry, " + brand + " is not accepting new channel requests at the moment. Please check again later."
}

// DiagnosticsCreationFailedText tells the maintainers that a request was
// refused for want of numbers.
func DiagnosticsCreationFailedText(available, active int) string {
	return fmt.Sprintf("Channel creation failed.\n- `%d` available phone numbers   \n- `%d` active channels ", available, active)
}

// ProvisionErrorText tells the maintainers, on the diagnostics channel,
// that getting a number for a channel request failed. err must carry no
// phone number (see the workflows' redaction).
func ProvisionErrorText(err string) string {
	return "Error provisioning a new phone number for channel request: `" + err + "`"
}

// RequestFailedText answers a channel request that failed for a reason
// other than an empty pool.
func RequestFailedText() string {
	return "Sorry, there was an issue while processing your request. Please try again later."
}

// ChannelFormatText explains how to write a CHANNEL request.
func ChannelFormatText() string {
	return "Sorry, that is not a channel request I can read. To create a channel, send CHANNEL followed by a comma-separated list of the admin phone numbers for that channel, each with its country code, for example:\n" +
		"\n" +
		"CHANNEL +15551234567, +15557654321"
}

// EmptyEntryText refuses a CHANNEL list with an empty entry.
func EmptyEntryText() string {
	return "Your list of admin phone numbers has an empty entry (two commas in a row?). Please send CHANNEL followed by the numbers separated by single commas, for example:\n" +
		"\n" +
		"CHANNEL +15551234567, +15557654321"
}

// TooManyAdminsText refuses a CHANNEL list that is too long.
func TooManyAdminsText(n int) string {
	return fmt.Sprintf("A channel can have at most %d admins, but your list has %d numbers. Please send a shorter list; admins can add more later with ADD.", MaxAdmins, n)
}

// OwnNumberText refuses an admin number that is one of the service's own.
func OwnNumberText(brand, number string) string {
	return number + " is a " + brand + " channel number, so it cannot be an admin. Please list the admins' own phone numbers."
}

// TooManyRequestsText answers a flood of CHANNEL requests from one sender.
func TooManyRequestsText() string {
	return "You have sent several channel requests in a short time. Please wait an hour before sending another one."
}

// DidntUnderstandText is the generic answer to a subscriber or stranger
// whose text is no command while the hotline is off.
func DidntUnderstandText() string {
	return "Sorry, I didn't understand that. Send HELP to see the commands you can use."
}

// NoCommandText answers an admin whose text is no command.
func NoCommandText() string {
	return "Sorry, you didn't give a command. Did you mean BROADCAST? To send a message to everyone on this channel, send BROADCAST followed by your message. Send HELP to see all the commands you can use."
}

// AdminOnlyText answers an admin command sent by someone who is not one.
func AdminOnlyText() string {
	return "Sorry, only admins of this channel can use that command. Send HELP to see the commands you can use."
}

// HelpText lists the commands for a role; the signup channel adds its own.
func HelpText(role Role, signup bool) string {
	var b strings.Builder
	if role == RoleAdmin {
		b.WriteString("Commands for admins:\n" +
			"BROADCAST message (or ! message): send the message to everyone on this channel\n" +
			"REPLY @id message: answer a hotline message privately\n" +
			"HOTLINE ON / HOTLINE OFF: open or close the hotline\n" +
			"ADD +15551234567: make someone an admin\n" +
			"REMOVE +15551234567: remove an admin\n" +
			"INFO: how many admins and subscribers this channel has\n" +
			"LEAVE: stop being an admin of this channel")
	} else {
		b.WriteString("Commands:\n" +
			"HELP: show this list\n" +
			"INFO: about this channel\n" +
			"JOIN: get this channel's broadcasts\n" +
			"LEAVE: stop getting them")
	}
	if signup {
		b.WriteString("\nREQUEST: how to create a channel\n" +
			"CHANNEL +15551234567, +15557654321: create a channel with these admins")
	}
	return b.String()
}

// InfoAdminText answers INFO from an admin: counts, never numbers.
func InfoAdminText(channelPhone string, admins, subscribers int, hotlineOn bool) string {
	return fmt.Sprintf("Channel %s\nAdmins: %d\nSubscribers: %d\nHotline: %s", channelPhone, admins, subscribers, onOff(hotlineOn))
}

// InfoText answers INFO from a subscriber or stranger.
func InfoText(hotlineOn bool) string {
	if hotlineOn {
		return "The hotline of this channel is on: anything you text here that is not a command is sent to its admins, without your phone number. Send JOIN to get its broadcasts, HELP for the commands."
	}
	return "The hotline of this channel is off. Send JOIN to get its broadcasts, HELP for the commands."
}

// JoinedText welcomes a new subscriber.
func JoinedText() string {
	return "Welcome! You are now subscribed to this channel and will get its broadcasts here. Nobody on the channel can see your phone number. Send LEAVE to unsubscribe, HELP for the commands."
}

// AlreadyMemberText answers JOIN from someone already on the channel.
func AlreadyMemberText() string {
	return "You are already on this channel. Send LEAVE to unsubscribe."
}

// LeftText confirms LEAVE.
func LeftText() string {
	return "You have left this channel and will get no more messages from it. Send JOIN to come back."
}

// NotMemberText answers LEAVE from someone not on the channel.
func NotMemberText() string {
	return "You are not on this channel. Send JOIN to subscribe."
}

// OptedOutText confirms STOP (or another carrier opt-out word) sent to a
// channel: the sender left it and gets nothing more from its number.
func OptedOutText() string {
	return "You have left this channel and will get no more texts from this number. Reply START to allow texts from it again."
}

// OptedInText confirms START sent to a channel's number.
func OptedInText() string {
	return "Texts from this number are allowed again. Send JOIN to get this channel's broadcasts."
}

// LastAdminText refuses to let the last admin leave.
func LastAdminText() string {
	return "You are the only admin of this channel, so you cannot leave it. ADD another admin first."
}

// MaxTextLen is the longest text Klaxon sends (one concatenated SMS).
const MaxTextLen = 1600

// fit prefixes msg, shortening msg with "…" so that the whole fits in one
// concatenated SMS.
func fit(prefix, msg string) string {
	room := MaxTextLen - utf8.RuneCountInString(prefix)
	if utf8.RuneCountInString(msg) > room {
		msg = string([]rune(msg)[:room-1]) + "…"
	}
	return prefix + msg
}

// HotlineMessageText is a hotline message as the admins get it.
func HotlineMessageText(id, msg string) string { return fit("[HOTLINE "+id+"] ", msg) }

// HotlineForwardedText tells a hotline sender their message went through.
func HotlineForwardedText() string {
	return "Your message was forwarded to the admins of this channel. They don't see your phone number. If they reply, their answer will come here."
}

// BroadcastCopyText is the copy of a broadcast the admins get.
func BroadcastCopyText(msg string) string { return fit("[BROADCAST] ", msg) }

// PrivateReplyText is an admin's REPLY as the hotline sender gets it.
func PrivateReplyText(msg string) string { return fit("[PRIVATE REPLY FROM ADMINS] ", msg) }

// ReplyCopyText is the copy of a REPLY the admins get.
func ReplyCopyText(id, msg string) string { return fit("[REPLY TO "+id+"] ", msg) }

// NoSuchHotlineIDText answers a REPLY to an unknown id.
func NoSuchHotlineIDText(id string) string {
	return "Sorry, no hotline message on this channel came from " + id + ". Check the id in the [HOTLINE @id] message you are answering."
}

// HotlineChangedText tells the admins that one of them opened or closed
// the hotline.
func HotlineChangedText(on bool) string {
	if on {
		return "The hotline is now ON: texts from subscribers and strangers that are not commands come to the admins as [HOTLINE @id] messages."
	}
	return "The hotline is now OFF: texts from subscribers and strangers are no longer forwarded to the admins."
}

// AddedText confirms ADD to the admin who sent it.
func AddedText(number string) string {
	return number + " is now an admin of this channel and has been sent a welcome message."
}

// AlreadyAdminText answers ADD for someone who is an admin already.
func AlreadyAdminText(number string) string { return number + " is already an admin of this channel." }

// RemovedText confirms REMOVE to the admin who sent it.
func RemovedText(number string) string { return number + " is no longer an admin of this channel." }

// RemovedNoticeText tells a removed admin.
func RemovedNoticeText() string {
	return "You were removed as an admin of this channel. You will get no more messages from it."
}

// NotAnAdminText answers REMOVE for a number that is no admin.
func NotAnAdminText(number string) string { return number + " is not an admin of this channel." }

// DeletedChannelText answers any text to a channel that was deleted.
func DeletedChannelText(brand string) string {
	return "This " + brand + " channel has been deleted; it no longer sends or receives messages."
}

// BroadcastUsageText explains BROADCAST without a message.
func BroadcastUsageText() string {
	return "Please include a message: BROADCAST your message (or ! your message)."
}

// HotlineUsageText explains HOTLINE without ON or OFF.
func HotlineUsageText() string {
	return "To open or close the hotline, send HOTLINE ON or HOTLINE OFF."
}

// AddUsageText explains ADD without a number.
func AddUsageText() string {
	return "Please include the phone number, with its country code: ADD +15551234567"
}

// RemoveUsageText explains REMOVE without a number.
func RemoveUsageText() string {
	return "Please include the phone number, with its country code: REMOVE +15551234567"
}

// ReplyUsageText explains a malformed REPLY.
func ReplyUsageText() string {
	return "To answer a hotline message, send REPLY followed by its @id and your message, for example: REPLY @k3x9 Thanks, we are on it."
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}
