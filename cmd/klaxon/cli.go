package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiClient is the maintainer CLI's client of the REST API at
// KLAXON_API_URL, authenticated with KLAXON_API_TOKEN.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(e env) (*apiClient, error) {
	base := strings.TrimRight(e.getenv("KLAXON_API_URL"), "/")
	if base == "" {
		base = "http://localhost:8080"
	}
	if u, err := url.Parse(base); err != nil || u.Host == "" {
		return nil, fmt.Errorf("KLAXON_API_URL %q is not a URL", base)
	}
	token := e.getenv("KLAXON_API_TOKEN")
	if token == "" {
		return nil, errors.New("KLAXON_API_TOKEN is not set (klaxon dev prints it at start)")
	}
	return &apiClient{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// do sends a JSON request and decodes a JSON answer into out. A non-2xx
// answer becomes an error holding the API's one clear sentence.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the Klaxon API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read API answer: %w", err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("the API answered %s", resp.Status)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode API answer: %w", err)
		}
	}
	return nil
}

// show GETs path and prints the answer as indented JSON, for `show`-style
// commands.
func (c *apiClient) show(ctx context.Context, w io.Writer, path string) error {
	var out any
	if err := c.do(ctx, http.MethodGet, path, nil, &out); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, e env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

// parseFlags parses args, turning a bad command line into a usage error.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			// The flag set has printed its flags: that was the answer.
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}

// runMessage is `klaxon message send|show`.
const messageUsage = "usage: klaxon message send --channel sms|voice|email --to ADDRESS --body TEXT [--subject S] | klaxon message show ID"

func runMessage(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{messageUsage}
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	switch args[0] {
	case "send":
		fs := newFlags("message send", e)
		channel := fs.String("channel", "sms", "sms, voice or email")
		to := fs.String("to", "", "phone number or email address")
		body := fs.String("body", "", "the message")
		subject := fs.String("subject", "", "email subject")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		var out struct {
			ID string `json:"id"`
		}
		req := map[string]string{"channel": *channel, "to": *to, "body": *body}
		if *subject != "" {
			req["subject"] = *subject
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/messages", req, &out); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, out.ID)
		return nil
	case "show":
		if len(args) != 2 {
			return usageError{"usage: klaxon message show ID"}
		}
		return c.show(ctx, e.stdout, "/api/v1/messages/"+url.PathEscape(args[1]))
	default:
		return usageError{fmt.Sprintf("unknown message subcommand %q: use send or show", args[0])}
	}
}
