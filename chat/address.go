package chat

import (
	"strings"
	"unicode/utf8"
)

// maxMatrixID is the spec's bound on a Matrix user id, in bytes.
const maxMatrixID = 255

// maxNick bounds an IRC nick; servers allow 9 to 30 characters, and a
// contact names one that exists.
const maxNick = 32

// Address normalises what names a person on network: on IRC a nick (a
// leading "@" is dropped), on Matrix a user id "@localpart:server". For
// anything else it returns a sentence saying what is expected.
func Address(network, s string) (addr, problem string) {
	s = strings.TrimSpace(s)
	switch network {
	case IRC:
		nick := strings.TrimPrefix(s, "@")
		if nick == "" || utf8.RuneCountInString(nick) > maxNick || strings.ContainsAny(nick, " ,*?!@:#\t") {
			return "", "is not a chat nick: at most 32 characters, without spaces or any of , * ? ! @ : #."
		}
		return nick, ""
	case Matrix:
		if !ValidMatrixID(s) {
			return "", "is not a Matrix user id: write it as @name:server, e.g. @alice:example.org."
		}
		return s, ""
	default:
		return "", "names no chat network Klaxon knows."
	}
}

// ValidMatrixID reports whether s is a Matrix user id: "@", a localpart of
// printable ASCII without ":", then ":" and a server name (a host, an IPv4
// address or a bracketed IPv6 one, and an optional port), at most 255
// bytes in all.
func ValidMatrixID(s string) bool {
	if len(s) > maxMatrixID || !strings.HasPrefix(s, "@") {
		return false
	}
	local, server, ok := strings.Cut(s[1:], ":")
	if !ok || local == "" || server == "" {
		return false
	}
	for _, r := range local {
		if r <= ' ' || r > '~' {
			return false
		}
	}
	return validServerName(server)
}

// validServerName checks a Matrix server name: host[:port].
func validServerName(s string) bool {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.Index(s, "]")
		if end < 0 {
			return false
		}
		host, port = s[:end+1], s[end+1:]
		if strings.Trim(host[1:end], "0123456789abcdefABCDEF:.") != "" || end == 1 {
			return false
		}
	} else if i := strings.LastIndex(s, ":"); i >= 0 {
		host, port = s[:i], s[i:]
	}
	if port != "" {
		digits := strings.TrimPrefix(port, ":")
		if digits == port || digits == "" || len(digits) > 5 || strings.Trim(digits, "0123456789") != "" {
			return false
		}
	}
	if strings.HasPrefix(host, "[") {
		return true
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
	}
	return true
}
