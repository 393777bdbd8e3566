package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
)

// ErrNoVoiceWebhook is returned by Dial when the called number has no
// VoiceUrl and Config.InboundVoiceURL is empty.
var ErrNoVoiceWebhook = errors.New("no voice webhook for the number")

// DialOptions tune a call a phone places to Klaxon.
type DialOptions struct {
	// Press lists keys the caller types, one entry per menu, each as soon
	// as its menu starts speaking (for scripts and tests). Without it the
	// call waits at each menu for keys pressed live with Press.
	Press []string
}

// dialTimeout is how long an inbound call may last at most.
const dialTimeout = 10 * time.Minute

// Dial has the phone `from` call Klaxon's number `to`: the simulator posts
// the signed voice webhook Twilio would send to the number's VoiceUrl (or
// Config.InboundVoiceURL), acts out the TwiML as a person listening, and
// sends the number's status callback when the call ends. The call is live:
// its speech takes the time it would take aloud and each menu waits for
// keys (o.Press, or Press). It returns the new CallSid at once.
func (s *Simulator) Dial(from, to string, o DialOptions) (string, error) {
	if !phone.IsE164(from) {
		return "", errors.New("dial: the caller is not an E.164 phone number")
	}
	if !phone.IsE164(to) {
		return "", errors.New("dial: the called number is not an E.164 phone number")
	}
	for _, k := range o.Press {
		if k == "" || len(k) > 32 || !validKeys(k) {
			return "", errors.New("dial: keys are the digits 0-9, * and #")
		}
	}
	if len(o.Press) > keypadBuffer {
		return "", fmt.Errorf("dial: at most %d menus of keys", keypadBuffer)
	}
	target, method, statusCB, statusMethod := s.voiceWebhook(to)
	if target == "" {
		return "", fmt.Errorf("dial: %w", ErrNoVoiceWebhook)
	}
	now := time.Now().UTC()
	c := &call{
		Call: Call{
			SID:        newID("CA"),
			From:       from,
			To:         to,
			Status:     "ringing",
			Direction:  directionInbound,
			Transcript: []string{},
			Digits:     []string{},
			Created:    now,
		},
		account:              s.cfg.AccountSID,
		url:                  target,
		method:               method,
		statusCallback:       statusCB,
		statusCallbackMethod: statusMethod,
		events:               map[string]bool{},
		timeout:              dialTimeout,
		updated:              now,
		started:              now,
		hangup:               make(chan struct{}),
		pickUp:               make(chan struct{}),
		keys:                 make(chan string, keypadBuffer),
		live:                 true,
	}
	for _, k := range o.Press {
		c.keys <- k
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.callBySID[c.SID] = c
	s.notifyLocked()
	s.mu.Unlock()
	s.log.LogAttrs(context.Background(), slog.LevelInfo, "simulator phone dialled klaxon",
		slog.String("sid", c.SID), slog.String("from", redact.Number(from)))
	if !s.goBackground(func(ctx context.Context) { s.runInboundCall(ctx, c) }) {
		return "", errors.New("dial: the simulator is closed")
	}
	return c.SID, nil
}

// validKeys reports whether k holds only keypad keys.
func validKeys(k string) bool {
	for _, r := range k {
		if (r < '0' || r > '9') && r != '*' && r != '#' {
			return false
		}
	}
	return true
}

// runInboundCall plays a call a phone placed to Klaxon: Klaxon answers with
// TwiML at once, and the caller listens and presses keys until either side
// hangs up.
func (s *Simulator) runInboundCall(ctx context.Context, c *call) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	s.mu.Lock()
	c.answered = time.Now().UTC()
	s.mu.Unlock()
	if !s.advanceCall(ctx, c, "answered", "in-progress") {
		s.endCall(ctx, c, "")
		return
	}
	v := &voiceSession{s: s, c: c}
	v.run(ctx)
	s.endCall(ctx, c, "completed")
}

// voiceWebhook returns where and how calls to p are posted, and the
// number's status callback.
func (s *Simulator) voiceWebhook(p string) (target, method, statusCB, statusMethod string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.numberByPhoneLocked(p); n != nil && n.voiceURL != "" {
		return n.voiceURL, orPost(n.voiceMethod), n.statusCallback, orPost(n.statusCallbackMethod)
	}
	return s.cfg.InboundVoiceURL, http.MethodPost, s.cfg.InboundVoiceStatusURL, http.MethodPost
}
