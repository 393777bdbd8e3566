// Package channel is the language of Klaxon's SMS channels: the pure parser
// of what people text to a channel's number or to the signup number, and
// every user-facing text, as functions of the brand, numbers and counts. It
// does no I/O, so the workflows that act on a command stay small and the
// grammar is tested on its own.
package channel

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/phone"
)

// MaxAdmins is the most admins one CHANNEL request may name.
const MaxAdmins = 20

// Role is what a sender is on the channel they text.
type Role string

// The roles. A stranger is anyone who is neither admin nor subscriber.
const (
	RoleAdmin      Role = "admin"
	RoleSubscriber Role = "subscriber"
	RoleStranger   Role = ""
)

// Kind is what a text asks for.
type Kind int

// The kinds of command.
const (
	// KindMessage is not a command: a hotline message when the hotline is
	// on and the sender is not an admin, otherwise a mistake to explain.
	KindMessage Kind = iota
	KindHelp
	KindInfo
	KindJoin
	KindLeave
	// KindOptOut is one of the carrier opt-out words (STOP ...): the sender
	// leaves the channel.
	KindOptOut
	// KindOptIn is one of the carrier opt-in words (START ...): answered by
	// the inbound backbone, nothing for the channel to do.
	KindOptIn
	KindBroadcast
	KindHotlineOn
	KindHotlineOff
	KindAdd
	KindRemove
	KindReply
	// KindRequest and KindChannel exist only on the signup channel.
	KindRequest
	KindChannel
	// KindInvalid is a command with bad arguments; Command.Error is the
	// reply that says what is wrong.
	KindInvalid
	// KindAdminOnly is an admin command sent by someone who is not one.
	KindAdminOnly
)

var kindNames = [...]string{"message", "help", "info", "join", "leave", "opt-out", "opt-in",
	"broadcast", "hotline-on", "hotline-off", "add", "remove", "reply", "request", "channel",
	"invalid", "admin-only"}

// String names the kind, for logs and tests.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Context is what the parser needs to know about where a text was sent and
// who sent it.
type Context struct {
	Role Role
	// Signup reports that the text was sent to the signup channel, the only
	// one that takes REQUEST and CHANNEL.
	Signup bool
}

// Command is a parsed text.
type Command struct {
	Kind Kind
	// Text is the message of BROADCAST and REPLY.
	Text string
	// Number is the E.164 argument of ADD and REMOVE.
	Number string
	// Admins are the E.164 admin numbers of CHANNEL, without duplicates.
	Admins []string
	// HotlineID is the @id of REPLY, lower case with its '@'.
	HotlineID string
	// Error is, for KindInvalid, the reply that says what is wrong.
	Error string
}

var (
	optOutWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	optInWords  = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
)

// Parse reads one text sent to a channel. Keywords are case-insensitive and
// tolerate surrounding whitespace and punctuation ("  help! " is HELP), but
// a keyword followed by other words is not that command ("help me" and
// "REQUEST for supplies" are messages). REQUEST and CHANNEL are commands
// only on the signup channel; admin commands from non-admins are
// KindAdminOnly when well formed, and messages otherwise.
func Parse(body string, c Context) Command {
	s := strings.TrimFunc(body, isSpace)
	admin := c.Role == RoleAdmin

	// "! message" is BROADCAST's shorthand, for admins only.
	if strings.HasPrefix(s, "!") && admin {
		text := strings.TrimFunc(s[1:], isSpace)
		if strings.TrimFunc(text, isPunctOrSpace) == "" {
			return invalid(BroadcastUsageText())
		}
		return Command{Kind: KindBroadcast, Text: text}
	}

	word, rest := leadingWord(s)
	switch kw := strings.ToUpper(word); {
	case kw == "":
		return Command{Kind: KindMessage}
	case kw == "HELP":
		return only(KindHelp, rest)
	case kw == "INFO":
		return only(KindInfo, rest)
	case kw == "JOIN" || kw == "HELLO":
		return only(KindJoin, rest)
	case kw == "LEAVE" || kw == "GOODBYE":
		return only(KindLeave, rest)
	case optOutWords[kw] || optInWords[kw]:
		// The carrier's words, matched as the inbound backbone and the
		// carrier match them: the whole text, trailing '.' or '!' allowed.
		if strings.ToUpper(strings.TrimRight(s, ".! ")) != kw {
			return Command{Kind: KindMessage}
		}
		if optInWords[kw] {
			return Command{Kind: KindOptIn}
		}
		return Command{Kind: KindOptOut}
	case kw == "REQUEST":
		if !c.Signup {
			return Command{Kind: KindMessage}
		}
		return only(KindRequest, rest)
	case kw == "CHANNEL":
		if !c.Signup {
			return Command{Kind: KindMessage}
		}
		return parseChannel(rest)
	case kw == "BROADCAST":
		return adminOnly(parseBroadcast(rest), admin)
	case kw == "HOTLINE":
		return adminOnly(parseHotline(rest), admin)
	case kw == "ADD":
		return adminOnly(parseNumberArg(KindAdd, rest, AddUsageText()), admin)
	case kw == "REMOVE":
		return adminOnly(parseNumberArg(KindRemove, rest, RemoveUsageText()), admin)
	case kw == "REPLY":
		return adminOnly(parseReply(rest), admin)
	default:
		return Command{Kind: KindMessage}
	}
}

// adminOnly turns an admin command from a non-admin into KindAdminOnly when
// it is well formed, or into a plain message when it is not (a subscriber's
// "add me please" is meant for the admins, not the parser).
func adminOnly(cmd Command, admin bool) Command {
	switch {
	case admin:
		return cmd
	case cmd.Kind == KindInvalid:
		return Command{Kind: KindMessage}
	default:
		return Command{Kind: KindAdminOnly}
	}
}

// only is a keyword that takes no argument: anything but punctuation after
// it makes the text a message.
func only(k Kind, rest string) Command {
	if strings.TrimFunc(rest, isPunctOrSpace) != "" {
		return Command{Kind: KindMessage}
	}
	return Command{Kind: k}
}

func invalid(reply string) Command { return Command{Kind: KindInvalid, Error: reply} }

func parseBroadcast(rest string) Command {
	text := trimSeparators(rest)
	if strings.TrimFunc(text, isPunctOrSpace) == "" {
		return invalid(BroadcastUsageText())
	}
	return Command{Kind: KindBroadcast, Text: text}
}

func parseHotline(rest string) Command {
	word, after := leadingWord(rest)
	if strings.TrimFunc(after, isPunctOrSpace) == "" {
		switch strings.ToUpper(word) {
		case "ON":
			return Command{Kind: KindHotlineOn}
		case "OFF":
			return Command{Kind: KindHotlineOff}
		}
	}
	return invalid(HotlineUsageText())
}

func parseNumberArg(k Kind, rest, usage string) Command {
	arg := strings.TrimRightFunc(trimSeparators(rest), func(r rune) bool {
		return isSpace(r) || r == '.' || r == '!' || r == '?' || r == ','
	})
	if arg == "" {
		return invalid(usage)
	}
	n, err := Number(arg)
	if err != nil {
		return invalid(err.Error())
	}
	return Command{Kind: k, Number: n}
}

func parseReply(rest string) Command {
	s := trimSeparators(rest)
	if !strings.HasPrefix(s, "@") {
		return invalid(ReplyUsageText())
	}
	end := 1
	for end < len(s) && isIDChar(s[end]) {
		end++
	}
	id := strings.ToLower(s[:end])
	if end == 1 || end > 13 {
		return invalid(ReplyUsageText())
	}
	text := trimSeparators(s[end:])
	if strings.TrimFunc(text, isPunctOrSpace) == "" {
		return invalid(ReplyUsageText())
	}
	return Command{Kind: KindReply, HotlineID: id, Text: text}
}

// parseChannel reads the admin list of a CHANNEL request.
func parseChannel(rest string) Command {
	s := strings.TrimRightFunc(trimSeparators(rest), func(r rune) bool {
		return isSpace(r) || r == '.' || r == ',' || r == ';'
	})
	if s == "" || (!strings.ContainsAny(s, "0123456789") && strings.IndexFunc(s, isSpace) >= 0) {
		return invalid(ChannelFormatText())
	}
	entries := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' })
	if len(entries) != strings.Count(s, ",")+strings.Count(s, ";")+strings.Count(s, "\n")+1 {
		return invalid(EmptyEntryText())
	}
	var admins []string
	seen := map[string]bool{}
	for _, e := range entries {
		e = strings.TrimFunc(e, isSpace)
		if e == "" {
			return invalid(EmptyEntryText())
		}
		for _, part := range splitPlus(e) {
			n, err := Number(part)
			if err != nil {
				return invalid(err.Error())
			}
			if !seen[n] {
				seen[n] = true
				admins = append(admins, n)
			}
		}
	}
	if len(admins) > MaxAdmins {
		return invalid(TooManyAdminsText(len(admins)))
	}
	return Command{Kind: KindChannel, Admins: admins}
}

// splitPlus splits "+15551234567 +15557654321" (numbers separated by
// spaces instead of commas) into its numbers, leaving "+1 555 123 4567"
// whole.
func splitPlus(e string) []string {
	fields := strings.FieldsFunc(e, isSpace)
	var out []string
	for _, f := range fields {
		if strings.HasPrefix(f, "+") || len(out) == 0 {
			out = append(out, f)
			continue
		}
		out[len(out)-1] += " " + f
	}
	if len(out) < 2 {
		return []string{e}
	}
	return out
}

// Number reads a phone number that must carry its country code, as the SMS
// grammar requires. It accepts what phone.NormalizeE164 accepts and, like
// the seed's own examples (+1222333444), any syntactically E.164 number
// (a '+', then 7 to 15 digits) that the numbering plan thinks too short:
// the provider is the final judge. Anything else gets the seed's error:
// "'ABC' is not a valid phone number. Phone numbers must include country
// codes prefixed by a '+'."
func Number(raw string) (string, error) {
	n, err := phone.NormalizeE164(raw)
	if err == nil {
		return n, nil
	}
	if c := compact(raw); phone.IsE164(c) {
		return c, nil
	}
	return "", err
}

// compact drops the separators people write inside numbers.
func compact(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '.', '\t':
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

// leadingWord skips leading whitespace and punctuation (not '+', '@' or
// '!') and returns the run of letters there and what follows it. A word
// glued to digits ("help2") keeps the digits in rest, which is then not
// punctuation, so the text stays a message.
func leadingWord(s string) (word, rest string) {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isSpace(r) || (unicode.IsPunct(r) && r != '@' && r != '!' && r != '+') {
			i += size
			continue
		}
		break
	}
	j := i
	for j < len(s) {
		r, size := utf8.DecodeRuneInString(s[j:])
		if !unicode.IsLetter(r) {
			break
		}
		j += size
	}
	return s[i:j], s[j:]
}

// trimSeparators drops what people put between a keyword and its argument:
// whitespace, ':' and '-'.
func trimSeparators(s string) string {
	return strings.TrimFunc(strings.TrimLeftFunc(s, func(r rune) bool {
		return isSpace(r) || r == ':' || r == '-' || r == '—' || r == '–'
	}), isSpace)
}

func isSpace(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' }

func isPunctOrSpace(r rune) bool {
	return isSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
}

func isIDChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}
