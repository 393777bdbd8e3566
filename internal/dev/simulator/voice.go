package simulator

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxDocuments caps the TwiML documents one call fetches, so that a
// <Redirect> loop ends.
const maxDocuments = 20

// maxSayLoop caps how often one <Say loop="n"> is heard.
const maxSayLoop = 10

// applicationError is what Twilio says when it cannot get usable TwiML.
const applicationError = "We are sorry, an application error has occurred. Goodbye."

// node is an element or (with an empty name) a text node of a TwiML
// document. Mixed content is kept in order, so SSML inside <Say> reads right.
type node struct {
	name     string
	attrs    map[string]string
	children []*node
	text     string
}

// parseTwiML parses a TwiML document, whose root must be <Response>.
func parseTwiML(b []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var root *node
	var stack []*node
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse twiml: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, attrs: make(map[string]string, len(t.Attr))}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			switch {
			case len(stack) > 0:
				top := stack[len(stack)-1]
				top.children = append(top.children, n)
			case root == nil:
				root = n
			default:
				return nil, errors.New("parse twiml: more than one root element")
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.children = append(top.children, &node{text: string(t)})
			}
		}
	}
	if root == nil || root.name != "Response" {
		return nil, errors.New("parse twiml: the root element is not <Response>")
	}
	return root, nil
}

// elements returns n's child elements, skipping text.
func (n *node) elements() []*node {
	var out []*node
	for _, c := range n.children {
		if c.name != "" {
			out = append(out, c)
		}
	}
	return out
}

// content returns all the text inside n with whitespace collapsed.
func (n *node) content() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		if n.name == "" {
			b.WriteString(n.text)
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// request is a TwiML fetch: the document's URL, its method, and the fields
// sent besides the call's own.
type request struct {
	url, method string
	extra       url.Values
}

// voiceSession is the answered part of one call: it fetches TwiML and acts
// it out as the phone's owner would.
type voiceSession struct {
	s       *Simulator
	c       *call
	press   string // digits to press at the first <Gather>
	gathers int
	// pending is what a person typed while the call was speaking, before
	// the menu that reads it (barge-in, as on Twilio).
	pending string
}

// Speech pace of a live call: a person follows the call as it is read, so
// its words take about the time they would take aloud.
const (
	wordTime    = 250 * time.Millisecond
	maxSayTime  = 20 * time.Second
	gatherWait  = 5 * time.Second // Twilio's default <Gather timeout>
	maxGatherTo = 60 * time.Second
)

// run fetches and interprets TwiML until the call ends.
func (v *voiceSession) run(ctx context.Context) {
	var doc *node
	var docURL string
	var err error
	if v.c.twiml != "" {
		doc, err = parseTwiML([]byte(v.c.twiml))
	} else {
		docURL = v.c.url
		doc, err = v.fetch(ctx, request{url: v.c.url, method: v.c.method})
	}
	for docs := 1; ; docs++ {
		if err != nil {
			v.fail(ctx, err)
			return
		}
		var next *request
		next, err = v.execute(doc, docURL)
		if err != nil {
			v.fail(ctx, err)
			return
		}
		if next == nil || v.hungUp() {
			return
		}
		if docs >= maxDocuments {
			v.s.log.LogAttrs(ctx, slog.LevelWarn, "simulator call fetched too many twiml documents",
				slog.String("sid", v.c.SID), slog.Int("documents", docs))
			return
		}
		docURL = next.url
		doc, err = v.fetch(ctx, *next)
	}
}

// fail ends the call as Twilio does when it has no usable TwiML.
func (v *voiceSession) fail(ctx context.Context, err error) {
	if ctx.Err() != nil || v.hungUp() {
		return
	}
	v.s.log.LogAttrs(ctx, slog.LevelWarn, "simulator call got no usable twiml",
		slog.String("sid", v.c.SID), slog.Any("error", err))
	v.say(applicationError, false)
}

// fetch gets and parses a TwiML document.
func (v *voiceSession) fetch(ctx context.Context, req request) (*node, error) {
	v.s.mu.Lock()
	params := v.c.params("in-progress")
	v.s.mu.Unlock()
	for k, vals := range req.extra {
		params[k] = vals
	}
	body, err := v.s.boundedWebhook(ctx, req.url, req.method, params)
	if err != nil {
		return nil, fmt.Errorf("fetch twiml: %w", err)
	}
	return parseTwiML(body)
}

// hungUp reports whether the REST API hung the call up.
func (v *voiceSession) hungUp() bool {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	return v.c.hungUp
}

// say records text as heard. On a live call it then takes the time the
// words take aloud, or less when the person presses a key meanwhile and
// interrupts is set (speech inside a <Gather>).
func (v *voiceSession) say(text string, interrupts bool) {
	if text == "" {
		return
	}
	v.s.mu.Lock()
	if v.c.hungUp {
		v.s.mu.Unlock()
		return
	}
	v.c.Transcript = append(v.c.Transcript, text)
	v.s.notifyLocked()
	v.s.mu.Unlock()
	if !v.c.live {
		return
	}
	per := v.s.cfg.WordTime
	if per <= 0 {
		per = wordTime
	}
	d := min(time.Duration(len(strings.Fields(text)))*per, maxSayTime)
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		var keys <-chan string
		if interrupts {
			keys = v.c.keys
		}
		select {
		case <-t.C:
			return
		case k := <-keys:
			v.pending += k
			return
		case <-v.c.hangup:
			return
		case <-v.s.stop.Done():
			return
		}
	}
}

// readKeys waits for what a person types at a menu: keys already typed
// during its speech, then each press, until numDigits digits or the finish
// key, or until timeout passes with no key pressed.
func (v *voiceSession) readKeys(numDigits int, finishOnKey string, timeout time.Duration) string {
	typed := v.pending
	v.pending = ""
	done := func() bool {
		d, k := keypad(typed, numDigits, finishOnKey)
		return k != "" || (numDigits > 0 && len(d) >= numDigits)
	}
	for !done() {
		t := time.NewTimer(timeout)
		select {
		case k := <-v.c.keys:
			typed += k
		case <-t.C:
			return typed
		case <-v.c.hangup:
			t.Stop()
			return ""
		case <-v.s.stop.Done():
			t.Stop()
			return ""
		}
		t.Stop()
	}
	return typed
}

// sayVerb acts out <Say>, honouring loop; interrupts is set inside a
// <Gather>, where a key press cuts the speech short.
func (v *voiceSession) sayVerb(n *node, interrupts bool) {
	loops, err := strconv.Atoi(n.attrs["loop"])
	if err != nil || loops <= 0 {
		loops = 1 // loop="0" repeats until hang-up; hear it once
	}
	text := n.content()
	for range min(loops, maxSayLoop) {
		v.say(text, interrupts)
		if interrupts && v.pending != "" {
			return
		}
	}
}

// execute acts out one document, whose URL is base (empty for inline
// TwiML), and returns the next document to fetch, or nil when the call
// ends.
func (v *voiceSession) execute(doc *node, base string) (*request, error) {
	for _, verb := range doc.elements() {
		if v.hungUp() {
			return nil, nil
		}
		switch verb.name {
		case "Say":
			v.sayVerb(verb, false)
		case "Gather":
			if next, err := v.gather(verb, base); next != nil || err != nil {
				return next, err
			}
		case "Redirect":
			target, err := resolve(base, verb.content())
			if err != nil {
				return nil, err
			}
			return &request{url: target, method: verb.attrs["method"]}, nil
		case "Hangup", "Reject":
			return nil, nil
		default:
			// <Pause>, <Play>, <Dial>, <Record>... pass without effect.
		}
	}
	return nil, nil
}

// gather acts out <Gather>: its nested <Say>s are heard, then the phone's
// owner presses keys: an auto-answering phone its configured keys at the
// first menu (a machine never does), a person whatever they type, live. It
// returns the action to post, or nil to carry on with the next verb.
func (v *voiceSession) gather(n *node, base string) (*request, error) {
	for _, child := range n.elements() {
		if v.hungUp() || v.pending != "" {
			break
		}
		if child.name == "Say" {
			v.sayVerb(child, true)
		}
	}
	if v.hungUp() {
		return nil, nil
	}
	first := v.gathers == 0
	v.gathers++
	input := n.attrs["input"]
	dtmf := input == "" || strings.Contains(input, "dtmf")
	finish := "#"
	if key, ok := n.attrs["finishOnKey"]; ok {
		finish = key
	}
	numDigits, _ := strconv.Atoi(n.attrs["numDigits"])
	typed := ""
	switch {
	case !dtmf:
	case v.c.live:
		wait := gatherWait
		if secs, err := strconv.Atoi(n.attrs["timeout"]); err == nil && secs > 0 {
			wait = min(time.Duration(secs)*time.Second, maxGatherTo)
		}
		typed = v.readKeys(numDigits, finish, wait)
		if v.hungUp() {
			return nil, nil
		}
	case first:
		typed = v.press
	}
	pressed := typed != ""
	if !pressed && n.attrs["actionOnEmptyResult"] != "true" {
		return nil, nil
	}
	action, err := resolve(base, n.attrs["action"])
	if err != nil {
		return nil, err
	}
	req := &request{url: action, method: n.attrs["method"], extra: url.Values{"msg": {"Gather End"}}}
	if pressed {
		digits, key := keypad(typed, numDigits, finish)
		req.extra.Set("Digits", digits)
		req.extra.Set("FinishedOnKey", key)
		v.s.mu.Lock()
		v.c.Digits = append(v.c.Digits, digits)
		v.s.notifyLocked()
		v.s.mu.Unlock()
	}
	return req, nil
}

// keypad returns the digits a <Gather> collects when press is typed: up to
// finishOnKey (reported as the key that ended input) or numDigits digits.
func keypad(press string, numDigits int, finishOnKey string) (digits, key string) {
	var b strings.Builder
	for _, c := range press {
		if finishOnKey != "" && strings.HasPrefix(finishOnKey, string(c)) {
			return b.String(), string(c)
		}
		b.WriteRune(c)
		if numDigits > 0 && b.Len() >= numDigits {
			break
		}
	}
	return b.String(), ""
}

// resolve resolves a TwiML URL attribute against the current document's
// URL; an empty ref means the document itself.
func resolve(base, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if base == "" {
		if absoluteHTTP(ref) {
			return ref, nil
		}
		return "", fmt.Errorf("resolve %q: inline twiml needs absolute urls", ref)
	}
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", ref, err)
	}
	r, err := url.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("resolve %q: %w", ref, err)
	}
	return b.ResolveReference(r).String(), nil
}
