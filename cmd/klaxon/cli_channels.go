package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const channelUsage = "usage: klaxon channel create [-p PHONE] -a ADMIN[,ADMIN...] | klaxon channel list | klaxon channel show PHONE | klaxon channel delete PHONE"

// runChannel is `klaxon channel create|list|show|delete`: Signalboost's
// `boost create-channel` and friends, over the REST API.
func runChannel(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{channelUsage}
	}
	switch args[0] {
	case "create":
		fs := newFlags("channel create", e)
		phoneFlag := fs.String("p", "", "the channel's phone number (default: one from the reserve pool)")
		admins := fs.String("a", "", "comma-separated admin phone numbers, e.g. +15551234567,+15557654321")
		requestID := fs.String("request-id", "", "idempotency key: the same id again gets the same channel")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usageError{"channel create takes no arguments besides its flags; " + channelUsage}
		}
		var list []string
		for _, a := range strings.Split(*admins, ",") {
			if a = strings.TrimSpace(a); a != "" {
				list = append(list, a)
			}
		}
		if len(list) == 0 {
			return usageError{"channel create needs -a with at least one admin phone number"}
		}
		if *requestID == "" {
			*requestID = "cli-" + randomHex(10)
		}
		c, err := newAPIClient(e)
		if err != nil {
			return err
		}
		c.http.Timeout = 45 * time.Second
		req := map[string]any{"admins": list, "request_id": *requestID}
		if *phoneFlag != "" {
			req["phone"] = *phoneFlag
		}
		var out struct {
			Phone string `json:"phone"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/channels", req, &out); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, out.Phone)
		return nil
	case "list":
		if len(args) != 1 {
			return usageError{"usage: klaxon channel list"}
		}
		c, err := newAPIClient(e)
		if err != nil {
			return err
		}
		var out struct {
			Channels []struct {
				Phone       string `json:"phone"`
				Kind        string `json:"kind"`
				HotlineOn   bool   `json:"hotline_on"`
				Admins      int    `json:"admins"`
				Subscribers int    `json:"subscribers"`
			} `json:"channels"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/channels", nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PHONE\tKIND\tADMINS\tSUBSCRIBERS\tHOTLINE")
		for _, ch := range out.Channels {
			hot := "off"
			if ch.HotlineOn {
				hot = "on"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", ch.Phone, ch.Kind, ch.Admins, ch.Subscribers, hot)
		}
		return tw.Flush()
	case "show", "delete":
		if len(args) != 2 {
			return usageError{fmt.Sprintf("usage: klaxon channel %s PHONE", args[0])}
		}
		c, err := newAPIClient(e)
		if err != nil {
			return err
		}
		path := "/api/v1/channels/" + url.PathEscape(args[1])
		if args[0] == "delete" {
			if err := c.do(ctx, http.MethodDelete, path, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "deleted %s\n", args[1])
			return nil
		}
		return c.show(ctx, e.stdout, path)
	default:
		return usageError{fmt.Sprintf("unknown channel subcommand %q; %s", args[0], channelUsage)}
	}
}

const numberUsage = "usage: klaxon number add PHONE | klaxon number list | klaxon number provision -n N [--area-code X]"

// runNumber is `klaxon number add|list|provision`: the reserve pool.
func runNumber(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{numberUsage}
	}
	switch args[0] {
	case "add":
		if len(args) != 2 {
			return usageError{"usage: klaxon number add PHONE"}
		}
		c, err := newAPIClient(e)
		if err != nil {
			return err
		}
		var out struct {
			Phone string `json:"phone"`
			State string `json:"state"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/numbers", map[string]string{"phone": args[1]}, &out); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s %s\n", out.Phone, out.State)
		return nil
	case "list":
		if len(args) != 1 {
			return usageError{"usage: klaxon number list"}
		}
		c, err := newAPIClient(e)
		if err != nil {
			return err
		}
		var out struct {
			Numbers []struct {
				Phone  string `json:"phone"`
				State  string `json:"state"`
				Source string `json:"source"`
				Error  string `json:"error"`
			} `json:"numbers"`
			Available   int `json:"available"`
			Active      int `json:"active_channels"`
			ReserveSize int `json:"reserve_size"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/numbers", nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PHONE\tSTATE\tSOURCE\tERROR")
		for _, n := range out.Numbers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Phone, n.State, n.Source, n.Error)
		}
		fmt.Fprintf(tw, "\n%d available (reserve size %d), %d active channels\n", out.Available, out.ReserveSize, out.Active)
		return tw.Flush()
	case "provision":
		fs := newFlags("number provision", e)
		n := fs.Int("n", 1, "how many numbers to buy")
		area := fs.String("area-code", "", "area code to buy in, e.g. 415")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usageError{numberUsage}
		}
		c, err := newAPIClient(e)
		if err != nil {
			return err
		}
		c.http.Timeout = 3 * time.Minute
		req := map[string]any{"count": *n, "request_id": "cli-" + randomHex(10)}
		if *area != "" {
			req["area_code"] = *area
		}
		var out struct {
			Bought []string `json:"bought"`
			Failed []struct {
				Phone  string `json:"phone"`
				Reason string `json:"reason"`
			} `json:"failed"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/numbers/provision", req, &out); err != nil {
			return err
		}
		for _, p := range out.Bought {
			fmt.Fprintln(e.stdout, p)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("bought %d of %d numbers; first failure: %s", len(out.Bought), *n, out.Failed[0].Reason)
		}
		return nil
	default:
		return usageError{fmt.Sprintf("unknown number subcommand %q; %s", args[0], numberUsage)}
	}
}
