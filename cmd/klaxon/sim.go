package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// simCmd is `klaxon sim`: text or call Klaxon as any phone, follow a call
// and press its keys, read what a phone or a mailbox received, through the
// phone simulator that `klaxon dev` runs (KLAXON_SIM_URL, default
// http://127.0.0.1:8025).
type simCmd struct {
	Send   simSendCmd   `cmd:"" help:"Text Klaxon as any phone; prints the text's id."`
	Call   simDialCmd   `cmd:"" help:"Call Klaxon as any phone (dial-in); prints what the call says, live."`
	Inbox  simInboxCmd  `cmd:"" help:"The texts a phone sent and received."`
	Calls  simCallsCmd  `cmd:"" help:"The calls a phone made and received: what it heard and pressed."`
	Answer simAnswerCmd `cmd:"" help:"Answer the call ringing on a phone (one set to answer as a person)."`
	Press  simPressCmd  `cmd:"" help:"Press keys on the call under way on a phone."`
	Hangup simHangupCmd `cmd:"" help:"Hang up (or decline) the call on a phone."`
	Phone  simPhoneCmd  `cmd:"" help:"How a phone takes calls: ring until you answer (person), auto-answer and press keys, machine, no-answer, busy, fail."`
	Mail   simMailCmd   `cmd:"" help:"The mails Klaxon sent, newest first (the mail sink)."`
	Code   simCodeCmd   `cmd:"" help:"Wait for the latest code texted to a phone (a verification or login code) and print it."`
}

type simSendCmd struct {
	From string   `default:"+15555550123" placeholder:"+1..." help:"The phone that texts."`
	To   string   `default:"${sim_to}" placeholder:"+1..." help:"The Klaxon number it texts."`
	Text []string `arg:"" help:"The text."`
}

func (c *simSendCmd) Run(e *cmdEnv) error {
	var out struct {
		SID string `json:"sid"`
	}
	body := map[string]string{"from": c.From, "to": c.To, "body": strings.Join(c.Text, " ")}
	if err := simCall(e, http.MethodPost, "/sim/api/sms", body, &out); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, out.SID)
	return nil
}

type simInboxCmd struct {
	Number string        `arg:"" placeholder:"+1..."`
	Wait   string        `placeholder:"TEXT" help:"First wait until the phone has a text containing TEXT (for scripts)."`
	For    time.Duration `default:"30s" help:"How long --wait waits."`
}

func (c *simInboxCmd) Run(e *cmdEnv) error {
	var out []simulator.Message
	err := simWait(e, c.For, func() (bool, error) {
		if err := simCall(e, http.MethodGet, "/sim/api/messages?number="+url.QueryEscape(c.Number), nil, &out); err != nil {
			return false, err
		}
		return c.Wait == "" || slices.ContainsFunc(out, func(m simulator.Message) bool { return strings.Contains(m.Body, c.Wait) }), nil
	})
	if err != nil {
		return fmt.Errorf("no text containing %q reached %s: %w", c.Wait, c.Number, err)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, m := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Created.Format(time.RFC3339), m.From, m.Direction, m.Body)
	}
	return tw.Flush()
}

// simWait calls done until it reports true, every 200 ms for up to d.
func simWait(e *cmdEnv, d time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(d)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s", humanDuration(d))
		}
		select {
		case <-e.ctx.Done():
			return e.ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type simCodeCmd struct {
	Number string        `arg:"" placeholder:"+1..."`
	For    time.Duration `default:"30s" help:"How long to wait for the code."`
}

// codeIn finds a verification or login code (six digits) in a text.
var codeIn = regexp.MustCompile(`\b\d{6}\b`)

func (c *simCodeCmd) Run(e *cmdEnv) error {
	code := ""
	err := simWait(e, c.For, func() (bool, error) {
		var out []simulator.Message
		if err := simCall(e, http.MethodGet, "/sim/api/messages?number="+url.QueryEscape(c.Number), nil, &out); err != nil {
			return false, err
		}
		for _, m := range out {
			if m.Direction != "inbound" {
				if k := codeIn.FindString(m.Body); k != "" {
					code = k // the latest one wins
				}
			}
		}
		return code != "", nil
	})
	if err != nil {
		return fmt.Errorf("no code reached %s: %w", c.Number, err)
	}
	fmt.Fprintln(e.stdout, code)
	return nil
}

type simCallsCmd struct {
	Number string `arg:"" placeholder:"+1..."`
}

func (c *simCallsCmd) Run(e *cmdEnv) error {
	var out []simulator.Call
	if err := simCall(e, http.MethodGet, "/sim/api/calls?number="+url.QueryEscape(c.Number), nil, &out); err != nil {
		return err
	}
	for _, call := range out {
		printCall(e, call)
	}
	return nil
}

// printCall writes one call: who called whom, its state, what was heard
// and pressed.
func printCall(e *cmdEnv, c simulator.Call) {
	who := "from " + c.From
	if c.Direction == "inbound" {
		who = "to " + c.To
	}
	live := ""
	if c.Live {
		live = " (live)"
	}
	fmt.Fprintf(e.stdout, "%s  call %s  %s%s  %s\n", c.Created.Local().Format("15:04:05"), who, c.Status, live, c.SID)
	for _, l := range c.Transcript {
		fmt.Fprintf(e.stdout, "    heard: %s\n", l)
	}
	if len(c.Digits) > 0 {
		fmt.Fprintf(e.stdout, "    pressed: %s\n", strings.Join(c.Digits, ", "))
	}
}

// liveCallOf finds the call under way on a phone (the only one, when no
// phone is named).
func liveCallOf(e *cmdEnv, number string) (simulator.Call, error) {
	var out []simulator.Call
	path := "/sim/api/calls"
	if number != "" {
		path += "?number=" + url.QueryEscape(number)
	}
	if err := simCall(e, http.MethodGet, path, nil, &out); err != nil {
		return simulator.Call{}, err
	}
	var live []simulator.Call
	for _, c := range out {
		if c.Live {
			live = append(live, c)
		}
	}
	switch {
	case len(live) == 1:
		return live[0], nil
	case len(live) == 0 && number != "":
		return simulator.Call{}, fmt.Errorf("no call is under way on %s (is the phone set to answer as a person? see klaxon sim phone)", number)
	case len(live) == 0:
		return simulator.Call{}, errors.New("no call is under way")
	default:
		return simulator.Call{}, errors.New("several calls are under way: name the phone")
	}
}

type simAnswerCmd struct {
	Number string        `arg:"" optional:"" placeholder:"+1..." help:"The phone (default: the only call ringing)."`
	For    time.Duration `default:"30s" help:"How long to wait for a call to ring."`
}

func (c *simAnswerCmd) Run(e *cmdEnv) error {
	var call simulator.Call
	var last error
	// A call placed a moment ago may not be ringing yet.
	err := simWait(e, c.For, func() (bool, error) {
		var err error
		call, err = liveCallOf(e, c.Number)
		last = err
		return err == nil, nil
	})
	if err != nil {
		if last != nil {
			return last
		}
		return err
	}
	if err := simCall(e, http.MethodPost, "/sim/api/calls/"+url.PathEscape(call.SID)+"/answer", nil, nil); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "answered the call from %s\n", call.From)
	return nil
}

type simPressCmd struct {
	Args []string `arg:"" placeholder:"[PHONE] KEYS" help:"The phone (optional when one call is under way) and the keys, e.g. 1."`
}

func (c *simPressCmd) Run(e *cmdEnv) error {
	number, keys := "", ""
	switch len(c.Args) {
	case 1:
		keys = c.Args[0]
	case 2:
		number, keys = c.Args[0], c.Args[1]
	default:
		return usageError{"sim press takes [PHONE] KEYS"}
	}
	call, err := liveCallOf(e, number)
	if err != nil {
		return err
	}
	if err := simCall(e, http.MethodPost, "/sim/api/calls/"+url.PathEscape(call.SID)+"/press", map[string]string{"digits": keys}, nil); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pressed %s on the call %s\n", keys, call.SID)
	return nil
}

type simHangupCmd struct {
	Number string `arg:"" optional:"" placeholder:"+1..."`
}

func (c *simHangupCmd) Run(e *cmdEnv) error {
	call, err := liveCallOf(e, c.Number)
	if err != nil {
		return err
	}
	if err := simCall(e, http.MethodPost, "/sim/api/calls/"+url.PathEscape(call.SID)+"/hangup", nil, nil); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "hung up")
	return nil
}

type simPhoneCmd struct {
	Number string `arg:"" placeholder:"+1..."`
	Calls  string `arg:"" enum:"person,auto-answer,machine,no-answer,busy,fail" help:"person: rings until you answer (klaxon sim answer), keys pressed live; auto-answer: answers at once and presses --press at the first menu."`
	Press  string `placeholder:"KEYS" help:"With auto-answer: the keys pressed at the first menu of every call."`
	Texts  string `enum:"delivered,undelivered,failed" default:"delivered" help:"How texts to the phone end."`
}

func (c *simPhoneCmd) Run(e *cmdEnv) error {
	answer := c.Calls
	if answer == "auto-answer" {
		answer = simulator.AnswerHuman
	}
	if c.Press != "" && answer != simulator.AnswerHuman {
		return usageError{"--press goes with auto-answer: a person presses keys live with klaxon sim press"}
	}
	body := map[string]string{"number": c.Number, "answer": answer, "press": c.Press, "sms_status": c.Texts}
	if err := simCall(e, http.MethodPost, "/sim/api/behaviour", body, nil); err != nil {
		return err
	}
	what := "rings until you answer it (klaxon sim answer), and you press keys live (klaxon sim press)"
	switch answer {
	case simulator.AnswerHuman:
		what = "answers at once by itself"
		if c.Press != "" {
			what += " and presses " + c.Press + " at the first menu of every call"
		}
	case simulator.AnswerMachine:
		what = "goes to voicemail"
	case simulator.AnswerNoAnswer:
		what = "rings out unanswered"
	case simulator.AnswerBusy:
		what = "is busy"
	case simulator.AnswerFail:
		what = "fails"
	}
	fmt.Fprintf(e.stdout, "%s: every call %s; texts end %s\n", c.Number, what, c.Texts)
	return nil
}

type simDialCmd struct {
	From  string   `default:"+15555550123" placeholder:"+1..." help:"The phone that calls."`
	To    string   `default:"${sim_to}" placeholder:"+1..." help:"The Klaxon number it calls."`
	Press []string `placeholder:"KEYS" help:"Keys to press, one per menu as it starts (repeat the flag); without, press them live with klaxon sim press."`
}

func (c *simDialCmd) Run(e *cmdEnv) error {
	var out struct {
		SID string `json:"sid"`
	}
	if err := simCall(e, http.MethodPost, "/sim/api/calls", map[string]any{"from": c.From, "to": c.To, "press": c.Press}, &out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "calling %s from %s (call %s); press keys with: klaxon sim press %s KEYS\n", c.To, c.From, out.SID, c.From)
	// Follow the call, line by line, until it ends.
	heard := 0
	for {
		var calls []simulator.Call
		if err := simCall(e, http.MethodGet, "/sim/api/calls?number="+url.QueryEscape(c.From), nil, &calls); err != nil {
			return err
		}
		for _, call := range calls {
			if call.SID != out.SID {
				continue
			}
			for ; heard < len(call.Transcript); heard++ {
				fmt.Fprintf(e.stdout, "  heard: %s\n", call.Transcript[heard])
			}
			if !call.Live {
				fmt.Fprintf(e.stdout, "call ended: %s\n", call.Status)
				return nil
			}
		}
		select {
		case <-e.ctx.Done():
			return e.ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

type simMailCmd struct {
	To string `arg:"" optional:"" placeholder:"ADDRESS" help:"Only mails to this address."`
	jsonFlag
}

func (c *simMailCmd) Run(e *cmdEnv) error {
	var out []mailsink.Mail
	path := "/mail/api/mails"
	if c.To != "" {
		path += "?to=" + url.QueryEscape(c.To)
	}
	if err := simCall(e, http.MethodGet, path, nil, &out); err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "no mail")
		return nil
	}
	for _, m := range out {
		fmt.Fprintf(e.stdout, "%s  to %s  %s\n%s\n\n", m.Received.Local().Format("15:04:05"), strings.Join(m.To, ", "), m.Subject, strings.TrimSpace(m.Body))
	}
	return nil
}

// simCall is one request to the phone simulator's API.
func simCall(e *cmdEnv, method, path string, body, out any) error {
	base := strings.TrimRight(e.getenv("KLAXON_SIM_URL"), "/")
	if base == "" {
		base = "http://" + devSimAddr
	}
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode simulator request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return fmt.Errorf("simulator request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the phone simulator at %s (is `klaxon dev` running?): %w", base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read simulator answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("simulator: %s: %s", resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode simulator answer: %w", err)
		}
	}
	return nil
}
