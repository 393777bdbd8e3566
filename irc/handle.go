package irc

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
)

// handle acts on one message from the server. A returned error ends the
// connection.
func (s *session) handle(ctx context.Context, m Message) error {
	c := s.c
	if label := m.Tags["label"]; label != "" {
		s.mu.Lock()
		ch := s.labels[label]
		delete(s.labels, label)
		s.mu.Unlock()
		if ch != nil {
			ch <- m // buffered, one answer per label
		}
	}
	switch m.Command {
	case "PING":
		s.sendNow(Message{Command: "PONG", Params: m.Params})
	case "PONG":
		s.mu.Lock()
		if !s.pingSent.IsZero() {
			c.log.Debug("irc lag", "lag", c.now().Sub(s.pingSent))
		}
		s.pingSent = time.Time{}
		s.mu.Unlock()
	case "ERROR":
		return fmt.Errorf("server closed the connection: %s", m.Param(0))
	case "CAP":
		s.handleCap(ctx, m)
	case "421": // ERR_UNKNOWNCOMMAND: a server without CAP registers us plainly
		if strings.EqualFold(m.Param(1), "CAP") {
			s.register(false)
		}
	case "AUTHENTICATE":
		s.handleAuthenticate(m)
	case "900": // RPL_LOGGEDIN
		c.log.Info("irc logged in", "account", m.Param(2))
	case "903": // RPL_SASLSUCCESS
		s.endCap()
	case "902", "904", "905", "906", "908": // SASL failed or aborted
		c.log.Error("irc sasl login failed; continuing without an account", "server", c.cfg.Server, "numeric", m.Command, "reason", m.Param(len(m.Params)-1))
		s.endCap()
	case "001":
		s.mu.Lock()
		s.registered = true
		s.nick = m.Param(0)
		if p := ParsePrefix(lastWord(m.Param(len(m.Params) - 1))); p.User != "" && p.Host != "" {
			s.userHost = p.UserHost()
		}
		s.mu.Unlock()
		c.log.Info("irc registered", "server", c.cfg.Server, "nick", m.Param(0))
	case "005":
		if len(m.Params) > 2 {
			s.mu.Lock()
			s.is.parse(m.Params[1 : len(m.Params)-1])
			s.mu.Unlock()
		}
	case "376", "422": // end of MOTD, or none: registration is complete
		s.onWelcome(ctx)
	case "396": // RPL_VISIBLEHOST
		s.mu.Lock()
		if user, _, ok := strings.Cut(s.userHost, "@"); ok {
			s.userHost = user + "@" + m.Param(1)
		}
		s.mu.Unlock()
	case "432", "433", "436", "437": // nick refused
		s.mu.Lock()
		registered := s.registered
		s.nickTry++
		n := s.nickTry
		s.mu.Unlock()
		if !registered {
			nick := s.fallbackNick(n)
			c.log.Info("irc nick taken, trying a fallback", "wanted", c.cfg.Nick, "trying", nick)
			s.sendNow(Message{Command: "NICK", Params: []string{nick}})
		}
	case "303": // RPL_ISON
		if !s.hasNick(strings.Fields(m.Param(1)), c.cfg.Nick) {
			s.regain(ctx)
		}
	case "731": // RPL_MONOFFLINE
		if s.hasNick(monTargets(m.Param(1)), c.cfg.Nick) {
			s.regain(ctx)
		}
	case "403", "405", "471", "473", "474", "475", "477": // cannot join
		c.log.Warn("irc cannot join", "channel", m.Param(1), "numeric", m.Command, "reason", m.Param(len(m.Params)-1))
	case "354": // RPL_WHOSPCRPL, our token 152: nick account
		if m.Param(1) == "152" && len(m.Params) >= 4 {
			s.setAccount(m.Param(2), m.Param(3))
		}
	case "NICK":
		s.onNick(ctx, m)
	case "JOIN":
		s.onJoin(ctx, m)
	case "PART":
		s.forget(m.Source.Nick)
	case "QUIT":
		s.forget(m.Source.Nick)
		if s.isFold(m.Source.Nick, c.cfg.Nick) {
			s.regain(ctx)
		}
	case "KICK":
		s.onKick(ctx, m)
	case "ACCOUNT":
		s.setAccount(m.Source.Nick, m.Param(0))
	case "PRIVMSG", "NOTICE":
		s.onMessage(ctx, m)
	}
	return nil
}

func lastWord(s string) string {
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return s
}

func monTargets(list string) []string {
	var nicks []string
	for _, t := range strings.Split(list, ",") {
		nicks = append(nicks, ParsePrefix(t).Nick)
	}
	return nicks
}

func (s *session) isFold(a, b string) bool {
	is := s.support()
	return is.Fold(a) == is.Fold(b)
}

func (s *session) hasNick(list []string, nick string) bool {
	for _, n := range list {
		if s.isFold(n, nick) {
			return true
		}
	}
	return false
}

func (s *session) isMe(nick string) bool {
	s.mu.Lock()
	me := s.nick
	s.mu.Unlock()
	return s.isFold(nick, me)
}

// handleCap follows CAP LS (over several lines with 302), ACK, NAK, NEW
// and DEL.
func (s *session) handleCap(ctx context.Context, m Message) {
	sub := strings.ToUpper(m.Param(1))
	switch sub {
	case "LS", "NEW":
		more := len(m.Params) > 3 && m.Params[2] == "*"
		s.mu.Lock()
		for _, tok := range strings.Fields(m.Param(len(m.Params) - 1)) {
			k, v, _ := strings.Cut(tok, "=")
			s.offered[k] = v
		}
		_, hasSASL := s.offered["sasl"]
		useSASL := hasSASL && s.saslUsable()
		_, hasTag := s.offered["account-tag"]
		first := sub == "LS" && !more && !s.lsDone
		if sub == "LS" && !more {
			s.lsDone = true
		}
		var req []string
		if sub == "NEW" || first {
			for _, w := range wantedCaps() {
				if _, ok := s.offered[w]; ok && !s.enabled[w] {
					if w == "sasl" && (sub == "NEW" || !s.saslUsable()) {
						continue
					}
					req = append(req, w)
				}
			}
		}
		s.mu.Unlock()
		if more {
			return
		}
		s.c.mu.Lock()
		s.c.hasAccounts = hasSASL || hasTag
		s.c.mu.Unlock()
		if first {
			s.register(useSASL)
		}
		if len(req) > 0 {
			s.sendNow(Message{Command: "CAP", Params: []string{"REQ", strings.Join(req, " ")}})
		} else if first {
			s.endCap()
		}
	case "ACK":
		s.mu.Lock()
		sasl := false
		for _, k := range strings.Fields(m.Param(2)) {
			if strings.HasPrefix(k, "-") {
				delete(s.enabled, k[1:])
				continue
			}
			s.enabled[k] = true
			sasl = sasl || k == "sasl"
		}
		registered := s.registered
		s.saslPending = sasl
		s.mu.Unlock()
		switch {
		case sasl:
			s.sendNow(Message{Command: "AUTHENTICATE", Params: []string{"PLAIN"}})
		case !registered:
			s.endCap()
		}
	case "NAK":
		s.c.log.Warn("irc server refused capabilities", "caps", m.Param(2))
		s.mu.Lock()
		registered := s.registered
		s.mu.Unlock()
		if !registered {
			s.endCap()
		}
	case "DEL":
		s.mu.Lock()
		for _, k := range strings.Fields(m.Param(2)) {
			delete(s.enabled, k)
			delete(s.offered, k)
		}
		s.mu.Unlock()
	}
}

// saslUsable: the server offers SASL with PLAIN (or names no mechanisms)
// and we have a password. Callers hold s.mu.
func (s *session) saslUsable() bool {
	mechs, ok := s.offered["sasl"]
	if !ok || s.c.cfg.Password == "" {
		return false
	}
	if mechs == "" {
		return true
	}
	for _, mech := range strings.Split(mechs, ",") {
		if strings.EqualFold(mech, "PLAIN") {
			return true
		}
	}
	return false
}

func (s *session) endCap() {
	s.mu.Lock()
	registered := s.registered
	s.saslPending = false
	s.mu.Unlock()
	if !registered {
		s.sendNow(Message{Command: "CAP", Params: []string{"END"}})
	}
}

// handleAuthenticate answers the server's "AUTHENTICATE +" with the PLAIN
// response (account = nick), in 400-byte pieces as the spec asks.
func (s *session) handleAuthenticate(m Message) {
	s.mu.Lock()
	pending := s.saslPending
	s.mu.Unlock()
	if !pending || m.Param(0) != "+" {
		return
	}
	cfg := s.c.cfg
	_, ir, err := sasl.NewPlainClient("", cfg.Nick, cfg.Password).Start()
	if err != nil {
		s.sendNow(Message{Command: "AUTHENTICATE", Params: []string{"*"}})
		return
	}
	enc := base64.StdEncoding.EncodeToString(ir)
	for len(enc) >= 400 {
		s.sendNow(Message{Command: "AUTHENTICATE", Params: []string{enc[:400]}})
		enc = enc[400:]
	}
	if enc == "" {
		enc = "+"
	}
	s.sendNow(Message{Command: "AUTHENTICATE", Params: []string{enc}})
}

// onWelcome joins the channels and tells the caller the client is up.
func (s *session) onWelcome(ctx context.Context) {
	c := s.c
	s.mu.Lock()
	if s.joined {
		s.mu.Unlock()
		return
	}
	s.joined = true
	fallback := c.onFallback(s.nick, s.is)
	monitor := s.is.Monitor > 0
	s.mu.Unlock()
	// From a goroutine of its own: the JOIN may wait for flood control,
	// and the reader must not.
	go func() {
		if len(c.cfg.Channels) > 0 {
			if err := s.send(ctx, Message{Command: "JOIN", Params: []string{strings.Join(c.cfg.Channels, ",")}}, false); err != nil {
				return
			}
		}
		if fallback && monitor {
			s.sendAsync(ctx, Message{Command: "MONITOR", Params: []string{"+", c.cfg.Nick}})
		}
		// Published only now, so any Say reaches the wire after the JOIN.
		c.mu.Lock()
		select {
		case <-s.done:
		default:
			c.sess = s
		}
		c.mu.Unlock()
		s.emit(Event{Kind: KindConnected, Target: s.nickNow(), Time: c.now()})
	}()
}

func (s *session) nickNow() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nick
}

// regain asks for the wanted nick when we have a fallback.
func (s *session) regain(ctx context.Context) {
	s.mu.Lock()
	need := s.registered && s.c.onFallback(s.nick, s.is)
	s.mu.Unlock()
	if need {
		s.sendAsync(ctx, Message{Command: "NICK", Params: []string{s.c.cfg.Nick}})
	}
}

func (s *session) onNick(ctx context.Context, m Message) {
	old, nick := m.Source.Nick, m.Param(0)
	if s.isMe(old) {
		s.mu.Lock()
		s.nick = nick
		regained := !s.c.onFallback(nick, s.is)
		monitor := s.is.Monitor > 0
		s.mu.Unlock()
		s.c.log.Info("irc nick changed", "nick", nick)
		if regained && monitor {
			s.sendAsync(ctx, Message{Command: "MONITOR", Params: []string{"-", nick}})
		}
		return
	}
	s.mu.Lock()
	if acct, ok := s.accounts[s.is.Fold(old)]; ok {
		delete(s.accounts, s.is.Fold(old))
		s.accounts[s.is.Fold(nick)] = acct
	}
	s.mu.Unlock()
	if s.isFold(old, s.c.cfg.Nick) {
		s.regain(ctx)
	}
}

func (s *session) onJoin(ctx context.Context, m Message) {
	ch := m.Param(0)
	if s.isMe(m.Source.Nick) {
		s.mu.Lock()
		if uh := m.Source.UserHost(); m.Source.User != "" && m.Source.Host != "" {
			s.userHost = uh
		}
		lookup := s.is.WHOX && !s.enabled["account-tag"]
		s.mu.Unlock()
		s.c.log.Info("irc joined", "channel", ch)
		if lookup {
			s.sendAsync(ctx, Message{Command: "WHO", Params: []string{ch, "%tna,152"}})
		}
		return
	}
	s.mu.Lock()
	extended := s.enabled["extended-join"]
	s.mu.Unlock()
	if extended && len(m.Params) >= 2 {
		s.setAccount(m.Source.Nick, m.Param(1))
	}
}

func (s *session) onKick(ctx context.Context, m Message) {
	ch, who := m.Param(0), m.Param(1)
	if !s.isMe(who) {
		s.forget(who)
		return
	}
	c := s.c
	configured := false
	for _, want := range c.cfg.Channels {
		configured = configured || s.isFold(want, ch)
	}
	c.log.Warn("irc kicked", "channel", ch, "by", m.Source.Nick, "rejoin", configured)
	if !configured {
		return
	}
	time.AfterFunc(c.rejoinDelay, func() {
		s.sendAsync(ctx, Message{Command: "JOIN", Params: []string{ch}})
	})
}

// setAccount records what the server said of nick's account ("*" or "0":
// none).
func (s *session) setAccount(nick, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.is.Fold(nick)
	if account == "" || account == "*" || account == "0" {
		delete(s.accounts, k)
		return
	}
	s.accounts[k] = account
}

// forget drops what is known of nick's account once it leaves our sight:
// someone else may take the nick next.
func (s *session) forget(nick string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.accounts, s.is.Fold(nick))
}

func (s *session) accountOf(m Message) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.enabled["account-tag"] {
		return m.Tags["account"]
	}
	return s.accounts[s.is.Fold(m.Source.Nick)]
}

// onMessage turns a PRIVMSG or NOTICE into an Event; CTCP requests are
// answered (VERSION, PING, rate-limited) or dropped, never delivered as
// text, except ACTION.
func (s *session) onMessage(ctx context.Context, m Message) {
	if len(m.Params) < 2 || m.Source.Nick == "" || m.Source.User == "" && m.Source.Host == "" {
		return // from a server, or malformed
	}
	c := s.c
	if s.isMe(m.Source.Nick) {
		return // our own line, echoed
	}
	target, text := m.Params[0], m.Params[1]
	kind := KindMessage
	if m.Command == "NOTICE" {
		kind = KindNotice
	}
	if strings.HasPrefix(text, "\x01") {
		verb, args, _ := strings.Cut(strings.Trim(text, "\x01"), " ")
		verb = strings.ToUpper(verb)
		if kind == KindNotice {
			return // a CTCP reply
		}
		if verb != "ACTION" {
			s.answerCTCP(ctx, m.Source.Nick, verb, args)
			return
		}
		kind, text = KindAction, args
	}
	is := s.support()
	ev := Event{
		Kind: kind, Nick: m.Source.Nick, UserHost: m.Source.UserHost(), Account: s.accountOf(m),
		ServerHasAccounts: c.HasAccounts(), Target: target, Private: !is.IsChannel(target),
		Text: validText(text), Time: c.now(), ID: m.Tags["msgid"],
	}
	if t, err := time.Parse(time.RFC3339Nano, m.Tags["time"]); err == nil {
		ev.Time = t
	}
	s.emit(ev)
}

func (s *session) answerCTCP(ctx context.Context, nick, verb, args string) {
	var reply string
	switch verb {
	case "VERSION":
		reply = "VERSION " + Version
	case "PING":
		reply = "PING " + args
	default:
		return
	}
	if len(reply) > 200 {
		return
	}
	c := s.c
	now := c.now()
	s.mu.Lock()
	if now.Sub(s.lastCTCP) < c.ctcpEvery {
		s.mu.Unlock()
		return
	}
	s.lastCTCP = now
	s.mu.Unlock()
	s.sendAsync(ctx, Message{Command: "NOTICE", Params: []string{nick, "\x01" + strings.TrimSpace(reply) + "\x01"}})
}
