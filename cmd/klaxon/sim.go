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
)

// runSim is `klaxon sim`: text Klaxon as any phone, or read what a phone
// received, through the phone simulator that `klaxon dev` runs.
const simUsage = "usage: klaxon sim send --from +1... --to +1... TEXT | klaxon sim inbox +1... | klaxon sim calls +1... | klaxon sim press +1... DIGITS  (KLAXON_SIM_URL, default http://" + devSimAddr + ")"

func runSim(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{simUsage}
	}
	base := strings.TrimRight(e.getenv("KLAXON_SIM_URL"), "/")
	if base == "" {
		base = "http://" + devSimAddr
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	call := func(method, path string, body, out any) error {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return fmt.Errorf("cannot reach the phone simulator at %s (is `klaxon dev` running?): %w", base, err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		if resp.StatusCode >= 300 {
			return fmt.Errorf("simulator: %s: %s", resp.Status, strings.TrimSpace(string(data)))
		}
		if out != nil {
			return json.Unmarshal(data, out)
		}
		return nil
	}
	switch args[0] {
	case "send":
		fs := newFlags("sim send", e)
		from := fs.String("from", "+15555550123", "the phone that texts")
		to := fs.String("to", devFromNumber, "the Klaxon number it texts")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		text := strings.Join(fs.Args(), " ")
		if text == "" {
			return usageError{simUsage}
		}
		var out struct {
			SID string `json:"sid"`
		}
		if err := call(http.MethodPost, "/sim/api/sms", map[string]string{"from": *from, "to": *to, "body": text}, &out); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, out.SID)
		return nil
	case "inbox", "calls":
		if len(args) != 2 {
			return usageError{simUsage}
		}
		var out []map[string]any
		if err := call(http.MethodGet, "/sim/api/"+map[string]string{"inbox": "messages", "calls": "calls"}[args[0]]+"?number="+url.QueryEscape(args[1]), nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		for _, m := range out {
			if args[0] == "inbox" {
				fmt.Fprintf(tw, "%v\t%v\t%v\t%v\n", m["created"], m["from"], m["direction"], m["body"])
			} else {
				fmt.Fprintf(tw, "%v\t%v\t%v\t%v\t%v\n", m["created"], m["from"], m["status"], m["digits"], m["transcript"])
			}
		}
		return tw.Flush()
	case "press":
		if len(args) != 3 {
			return usageError{simUsage}
		}
		return call(http.MethodPost, "/sim/api/behaviour", map[string]string{"number": args[1], "Press": args[2]}, nil)
	default:
		return usageError{simUsage}
	}
}
