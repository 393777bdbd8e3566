package bridge

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The commands people give the bot in chat.
const (
	cmdPoke    = "poke"
	cmdSMS     = "sms"
	cmdGet     = "get"
	cmdPage    = "page"
	cmdAck     = "ack"
	cmdResolve = "resolve"
	cmdPages   = "pages"
	cmdOnCall  = "oncall"
	cmdHelp    = "help"
)

// command is a chat line addressed to the bot, read.
type command struct {
	// name is the command word, lower-cased; "" when the line is addressed
	// to the bot but empty.
	name string
	// args is the rest of the line, trimmed.
	args string
}

// addressed returns the command a line gives the bot: "NICK: CMD",
// "NICK, CMD", "!CMD", "@CMD", or anything in a private message. ok=false
// for a line in a channel that is not for the bot.
func addressed(text, botNick string, private bool) (command, bool) {
	s := strings.TrimSpace(text)
	rest, ok := stripAddress(s, botNick)
	if !ok {
		if !private {
			return command{}, false
		}
		rest = s
	}
	name, args, _ := strings.Cut(strings.TrimSpace(rest), " ")
	return command{name: strings.ToLower(name), args: strings.TrimSpace(args)}, true
}

// stripAddress removes the part of s that addresses the bot.
func stripAddress(s, botNick string) (string, bool) {
	if strings.HasPrefix(s, "!") || strings.HasPrefix(s, "@") {
		rest := s[1:]
		if rest == "" || unicode.IsSpace(firstRune(rest)) {
			return "", false
		}
		// "@klaxon: poke x" addresses the bot by nick, with an @.
		if r, ok := stripNick(rest, botNick); ok {
			return r, true
		}
		return rest, true
	}
	return stripNick(s, botNick)
}

func stripNick(s, botNick string) (string, bool) {
	if botNick == "" || len(s) <= len(botNick) || !strings.EqualFold(s[:len(botNick)], botNick) {
		return "", false
	}
	switch s[len(botNick)] {
	case ':', ',':
		return strings.TrimSpace(s[len(botNick)+1:]), true
	}
	return "", false
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// splitName reads "NAME rest" (for poke and sms).
func splitName(args string) (name, rest string) {
	name, rest, _ = strings.Cut(args, " ")
	return strings.TrimPrefix(strings.TrimSuffix(name, ":"), "@"), strings.TrimSpace(rest)
}

// splitGet reads "NAME now: MESSAGE" (ok=false without "now").
func splitGet(args string) (name, message string, ok bool) {
	name, rest := splitName(args)
	word, msg, _ := strings.Cut(rest, " ")
	word = strings.TrimRight(strings.ToLower(word), ":,-")
	if word != "now" {
		// "now:" with no space before the message.
		if w, m, found := strings.Cut(rest, ":"); found && strings.EqualFold(strings.TrimSpace(w), "now") {
			return name, strings.TrimSpace(m), name != ""
		}
		return "", "", false
	}
	return name, strings.TrimSpace(strings.TrimLeft(msg, ":,- ")), name != ""
}

// splitPage reads "TARGET: MESSAGE".
func splitPage(args string) (target, message string, ok bool) {
	// A target may itself hold a colon ("user:alice: derp"): the message
	// starts after the first colon that is followed by a space.
	i := strings.Index(args, ": ")
	if i <= 0 {
		return "", "", false
	}
	target, message = strings.TrimSpace(args[:i]), strings.TrimSpace(args[i+2:])
	if strings.ContainsAny(target, " \t") {
		return "", "", false
	}
	return target, message, target != "" && message != ""
}

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
