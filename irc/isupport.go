package irc

import (
	"strconv"
	"strings"
)

// ISupport is what a server announces of itself in RPL_ISUPPORT (005) that
// the client acts on. Before the server says otherwise the RFC defaults
// hold: 512-byte lines, 9-character nicks, # and & channels, rfc1459
// case mapping.
type ISupport struct {
	// LineLen is the longest line, CR LF included, tags excluded.
	LineLen int
	// NickLen, UserLen and HostLen bound nicks, idents and hosts.
	NickLen, UserLen, HostLen int
	// ChanTypes are the characters a channel name starts with.
	ChanTypes string
	// StatusMsg are the prefixes (@, +) a channel target may carry.
	StatusMsg string
	// CaseMapping is rfc1459, strict-rfc1459 or ascii.
	CaseMapping string
	// Monitor is the MONITOR list size; 0 when the server has no MONITOR.
	Monitor int
	// WHOX tells that WHO takes a %fields argument (and %a, the account).
	WHOX bool
}

func defaultISupport() ISupport {
	return ISupport{LineLen: 512, NickLen: 9, UserLen: 10, HostLen: 63, ChanTypes: "#&", CaseMapping: "rfc1459"}
}

// parse applies the tokens of one 005 line (without the client's nick and
// the trailing text). "-TOKEN" puts a token back to its default.
func (s *ISupport) parse(tokens []string) {
	def := defaultISupport()
	for _, tok := range tokens {
		neg := strings.HasPrefix(tok, "-")
		k, v, _ := strings.Cut(strings.TrimPrefix(tok, "-"), "=")
		n, nerr := strconv.Atoi(v)
		num := func(dst *int, d int) {
			switch {
			case neg:
				*dst = d
			case nerr == nil && n > 0:
				*dst = n
			}
		}
		switch k {
		case "LINELEN":
			num(&s.LineLen, def.LineLen)
			if s.LineLen < 512 {
				s.LineLen = 512
			}
		case "NICKLEN", "MAXNICKLEN":
			num(&s.NickLen, def.NickLen)
		case "USERLEN":
			num(&s.UserLen, def.UserLen)
		case "HOSTLEN":
			num(&s.HostLen, def.HostLen)
		case "CHANTYPES":
			s.ChanTypes = v
			if neg {
				s.ChanTypes = def.ChanTypes
			}
		case "STATUSMSG":
			s.StatusMsg = v
		case "CASEMAPPING":
			s.CaseMapping = v
			if neg || v == "" {
				s.CaseMapping = def.CaseMapping
			}
		case "MONITOR":
			s.Monitor = 0
			if !neg {
				s.Monitor = 100
				if nerr == nil && n > 0 {
					s.Monitor = n
				}
			}
		case "WHOX":
			s.WHOX = !neg
		}
	}
}

// Fold maps a nick or channel name to the form under which the server's
// case mapping compares names: under rfc1459, "Joe[1]" and "joe{1}" are the
// same nick.
func (s ISupport) Fold(name string) string {
	var upper string
	switch s.CaseMapping {
	case "ascii":
		upper = ""
	case "strict-rfc1459":
		upper = "[]\\"
	default:
		upper = "[]\\~"
	}
	b := []byte(name)
	for i, c := range b {
		switch {
		case 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case c == '[' && upper != "":
			b[i] = '{'
		case c == ']' && upper != "":
			b[i] = '}'
		case c == '\\' && upper != "":
			b[i] = '|'
		case c == '~' && len(upper) == 4:
			b[i] = '^'
		}
	}
	return string(b)
}

// IsChannel reports whether target names a channel (after any STATUSMSG
// prefix such as "@#ops").
func (s ISupport) IsChannel(target string) bool {
	target = strings.TrimLeft(target, s.StatusMsg)
	return target != "" && strings.IndexByte(s.ChanTypes, target[0]) >= 0
}
