package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// simCmd is `klaxon sim`: text Klaxon as any phone, or read what a phone
// received, through the phone simulator that `klaxon dev` runs
// (KLAXON_SIM_URL, default http://127.0.0.1:8025).
type simCmd struct {
	Send  simSendCmd  `cmd:"" help:"Text Klaxon as any phone; prints the text's id."`
	Inbox simInboxCmd `cmd:"" help:"The texts a phone sent and received."`
	Calls simCallsCmd `cmd:"" help:"The calls a phone received: what it heard and pressed."`
	Press simPressCmd `cmd:"" help:"Have calls to a phone press DIGITS at the first menu."`
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
	Number string `arg:"" placeholder:"+1..."`
}

func (c *simInboxCmd) Run(e *cmdEnv) error {
	var out []simulator.Message
	if err := simCall(e, http.MethodGet, "/sim/api/messages?number="+url.QueryEscape(c.Number), nil, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, m := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Created.Format(time.RFC3339), m.From, m.Direction, m.Body)
	}
	return tw.Flush()
}

type simCallsCmd struct {
	Number string `arg:"" placeholder:"+1..."`
}

func (c *simCallsCmd) Run(e *cmdEnv) error {
	var out []simulator.Call
	if err := simCall(e, http.MethodGet, "/sim/api/calls?number="+url.QueryEscape(c.Number), nil, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, m := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\n", m.Created.Format(time.RFC3339), m.From, m.Status, m.Digits, m.Transcript)
	}
	return tw.Flush()
}

type simPressCmd struct {
	Number string `arg:"" placeholder:"+1..."`
	Digits string `arg:""`
}

func (c *simPressCmd) Run(e *cmdEnv) error {
	if err := simCall(e, http.MethodPost, "/sim/api/behaviour", map[string]string{"number": c.Number, "Press": c.Digits}, nil); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "calls to %s will press %s at the first menu\n", c.Number, c.Digits)
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
