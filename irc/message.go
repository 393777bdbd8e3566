package irc

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrMalformed is returned by Parse for a line that is not an IRC message
// (no command, or a NUL, CR or LF inside it).
var ErrMalformed = errors.New("irc: malformed message")

// Prefix is the source of a message: a server name, or a user as
// nick!user@host (user and host are empty when the server leaves them out).
type Prefix struct {
	Nick string
	User string
	Host string
}

// String is the prefix as written on the wire, without the leading colon.
func (p Prefix) String() string {
	s := p.Nick
	if p.User != "" {
		s += "!" + p.User
	}
	if p.Host != "" {
		s += "@" + p.Host
	}
	return s
}

// UserHost is user@host, or empty when the prefix carries neither.
func (p Prefix) UserHost() string {
	if p.User == "" && p.Host == "" {
		return ""
	}
	return p.User + "@" + p.Host
}

// ParsePrefix splits nick!user@host; a server name comes back as Nick.
func ParsePrefix(s string) Prefix {
	var p Prefix
	if i := strings.IndexByte(s, '@'); i >= 0 {
		p.Host = s[i+1:]
		s = s[:i]
	}
	if i := strings.IndexByte(s, '!'); i >= 0 {
		p.User = s[i+1:]
		s = s[:i]
	}
	p.Nick = s
	return p
}

// Message is one IRC line: RFC 1459/2812 framing with IRCv3 message tags.
type Message struct {
	// Tags are the IRCv3 message tags, unescaped; a tag without a value
	// maps to "". Nil when the line had none.
	Tags map[string]string
	// Source is the prefix; the zero Prefix when the line had none.
	Source Prefix
	// Command is upper-cased: a word (PRIVMSG) or a three-digit numeric.
	Command string
	// Params are the parameters; the last may contain spaces.
	Params []string
}

// Param returns the i-th parameter, or "" when there is none (i may be
// negative: Param(len(m.Params)-1) is the last one or "").
func (m Message) Param(i int) string {
	if i >= 0 && i < len(m.Params) {
		return m.Params[i]
	}
	return ""
}

// Parse reads one line (its trailing CR LF, if any, is ignored). It accepts
// what servers send in practice: runs of spaces between parameters, tags
// without values, a prefix-only source.
func Parse(line string) (Message, error) {
	line = strings.TrimRight(line, "\r\n")
	if strings.ContainsAny(line, "\x00\r\n") {
		return Message{}, ErrMalformed
	}
	var m Message
	if strings.HasPrefix(line, "@") {
		var raw string
		raw, line, _ = strings.Cut(line[1:], " ")
		m.Tags = parseTags(raw)
	}
	line = strings.TrimLeft(line, " ")
	if strings.HasPrefix(line, ":") {
		var src string
		src, line, _ = strings.Cut(line[1:], " ")
		m.Source = ParsePrefix(src)
	}
	line = strings.TrimLeft(line, " ")
	cmd, rest, _ := strings.Cut(line, " ")
	if !validCommand(cmd) {
		return Message{}, ErrMalformed
	}
	m.Command = strings.ToUpper(cmd)
	for {
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		if rest[0] == ':' {
			m.Params = append(m.Params, rest[1:])
			break
		}
		var p string
		p, rest, _ = strings.Cut(rest, " ")
		m.Params = append(m.Params, p)
	}
	return m, nil
}

func parseTags(raw string) map[string]string {
	tags := make(map[string]string)
	for _, kv := range strings.Split(raw, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			continue
		}
		tags[k] = unescapeTag(v)
	}
	return tags
}

// unescapeTag undoes the IRCv3 tag value escaping: \: is ';', \s a space,
// \\ a backslash, \r and \n CR and LF; a backslash before any other
// character is dropped, and a trailing lone backslash too.
func unescapeTag(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(v) {
			break
		}
		switch v[i] {
		case ':':
			b.WriteByte(';')
		case 's':
			b.WriteByte(' ')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

var tagEscaper = strings.NewReplacer(`\`, `\\`, ";", `\:`, " ", `\s`, "\r", `\r`, "\n", `\n`)

// Format writes m as one line without the trailing CR LF. Tags are written
// in key order. It refuses a message that cannot be framed: no command, a
// CR, LF or NUL anywhere, a tag key or source with a space, or a parameter
// other than the last that is empty, has a space or starts with a colon.
func Format(m Message) (string, error) {
	if !validCommand(m.Command) {
		return "", fmt.Errorf("format %q: %w", m.Command, ErrMalformed)
	}
	var b strings.Builder
	if len(m.Tags) > 0 {
		keys := make([]string, 0, len(m.Tags))
		for k := range m.Tags {
			if k == "" || strings.ContainsAny(k, " ;=\x00\r\n") {
				return "", fmt.Errorf("format tag %q: %w", k, ErrMalformed)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('@')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(';')
			}
			b.WriteString(k)
			if v := m.Tags[k]; v != "" {
				if strings.ContainsRune(v, 0) {
					return "", fmt.Errorf("format tag %q: %w", k, ErrMalformed)
				}
				b.WriteByte('=')
				b.WriteString(tagEscaper.Replace(v))
			}
		}
		b.WriteByte(' ')
	}
	if src := m.Source.String(); src != "" {
		if strings.ContainsAny(src, " \x00\r\n") {
			return "", fmt.Errorf("format source: %w", ErrMalformed)
		}
		b.WriteByte(':')
		b.WriteString(src)
		b.WriteByte(' ')
	}
	b.WriteString(m.Command)
	for i, p := range m.Params {
		if strings.ContainsAny(p, "\x00\r\n") {
			return "", fmt.Errorf("format %s: parameter %d: %w", m.Command, i, ErrMalformed)
		}
		last := i == len(m.Params)-1
		trailing := p == "" || strings.HasPrefix(p, ":") || strings.Contains(p, " ")
		if trailing && !last {
			return "", fmt.Errorf("format %s: parameter %d: %w", m.Command, i, ErrMalformed)
		}
		b.WriteByte(' ')
		if trailing {
			b.WriteByte(':')
		}
		b.WriteString(p)
	}
	return b.String(), nil
}

// validCommand reports whether cmd is a command word or numeric: ASCII
// letters and digits only.
func validCommand(cmd string) bool {
	if cmd == "" {
		return false
	}
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
