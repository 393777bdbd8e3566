package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/activities"
)

// pagingActivities builds the paging feature's activities: calls are hung
// up through Twilio (or the simulator) when one is configured.
func (a *app) pagingActivities(logger *slog.Logger) *activities.Paging {
	p := &activities.Paging{Store: a.store, Temporal: a.temporal, Logger: logger}
	if a.twilio != nil {
		p.Calls = a.twilio
	}
	return p
}

const pageUsage = "usage: klaxon page --target user:HANDLE|rotation:NAME|policy:NAME --summary TEXT [--details TEXT] [--mode escalate|blast] [--urgency high|low] [--dedup-key K] [--escalate-after 1m] | klaxon page show ID | klaxon page list [--status open|acked|resolved]"

// runPage is `klaxon page`: page someone, or show or list pages.
func runPage(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "show":
			return showPage(ctx, e, args[1:])
		case "list":
			return listPages(ctx, e, args[1:])
		}
	}
	fs := newFlags("page", e)
	target := fs.String("target", "", "whom to page: user:HANDLE, rotation:NAME or policy:NAME")
	summary := fs.String("summary", "", "what is wrong, in a line (texts are shortened to fit one SMS)")
	details := fs.String("details", "", "more, for the email")
	mode := fs.String("mode", "", "escalate (default: text, then call, then email) or blast (every contact at once)")
	urgency := fs.String("urgency", "", "high (default) or low (one text, never a call)")
	dedup := fs.String("dedup-key", "", "the same key while the page is open returns the same page")
	after := fs.Duration("escalate-after", 0, "wait before each next medium or step, overriding the rules (e.g. 1m)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q; %s", fs.Arg(0), pageUsage)}
	}
	if *target == "" || strings.TrimSpace(*summary) == "" {
		return usageError{pageUsage}
	}
	req := map[string]any{"target": *target, "summary": *summary}
	for k, v := range map[string]string{"details": *details, "mode": *mode, "urgency": *urgency, "dedup_key": *dedup} {
		if v != "" {
			req[k] = v
		}
	}
	if *after != 0 {
		if *after < time.Second || *after%time.Second != 0 {
			return usageError{"--escalate-after must be a whole number of seconds, at least 1s"}
		}
		req["escalate_after_seconds"] = int(*after / time.Second)
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	var out struct {
		ID           int64  `json:"id"`
		Status       string `json:"status"`
		Deduplicated bool   `json:"deduplicated"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/pages", req, &out); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, out.ID)
	if out.Deduplicated {
		fmt.Fprintf(e.stderr, "page %d with this dedup key is already %s; nobody was paged again\n", out.ID, out.Status)
	}
	return nil
}

// pageID reads a page id argument.
func pageID(s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Sprintf("%q is not a page id (a positive number)", s)}
	}
	return id, nil
}

func showPage(ctx context.Context, e env, args []string) error {
	if len(args) != 1 {
		return usageError{"usage: klaxon page show ID"}
	}
	id, err := pageID(args[0])
	if err != nil {
		return err
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	return c.show(ctx, e.stdout, "/api/v1/pages/"+strconv.FormatInt(id, 10))
}

func listPages(ctx context.Context, e env, args []string) error {
	fs := newFlags("page list", e)
	status := fs.String("status", "", "open, acked or resolved (default: all)")
	limit := fs.Int("limit", 50, "how many, newest first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	q := url.Values{"limit": {strconv.Itoa(*limit)}}
	if *status != "" {
		q.Set("status", *status)
	}
	var out struct {
		Pages []struct {
			ID        int64     `json:"id"`
			Status    string    `json:"status"`
			Target    string    `json:"target"`
			Summary   string    `json:"summary"`
			CreatedAt time.Time `json:"created_at"`
			AckedBy   string    `json:"acked_by"`
		} `json:"pages"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/pages?"+q.Encode(), nil, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tTARGET\tCREATED\tSUMMARY")
	for _, p := range out.Pages {
		st := p.Status
		if p.AckedBy != "" {
			st += " (" + p.AckedBy + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, st, p.Target, p.CreatedAt.Local().Format("2006-01-02 15:04"), clipLine(p.Summary, 60))
	}
	return tw.Flush()
}

func clipLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// runAck is `klaxon ack ID [--by NAME]`.
func runAck(ctx context.Context, e env, args []string) error {
	return pageAction(ctx, e, "ack", args)
}

// runResolve is `klaxon resolve ID [--by NAME]`.
func runResolve(ctx context.Context, e env, args []string) error {
	return pageAction(ctx, e, "resolve", args)
}

func pageAction(ctx context.Context, e env, action string, args []string) error {
	usage := fmt.Sprintf("usage: klaxon %s ID [--by NAME]", action)
	var idArg string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		idArg, args = args[0], args[1:]
	}
	fs := newFlags(action, e)
	by := fs.String("by", "", "who is acting (default: the API's name for it)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if idArg == "" && fs.NArg() == 1 {
		idArg = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return usageError{usage}
	}
	if idArg == "" {
		return usageError{usage}
	}
	id, err := pageID(idArg)
	if err != nil {
		return err
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	req := map[string]string{"by": *by}
	if req["by"] == "" {
		// Who ran the command, for the page's timeline.
		req["by"] = "cli"
		if u := e.getenv("USER"); u != "" {
			req["by"] = u + " (cli)"
		}
	}
	var out struct {
		Status  string `json:"status"`
		Changed bool   `json:"changed"`
		Message string `json:"message"`
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/pages/"+strconv.FormatInt(id, 10)+"/"+action, req, &out); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "page %d: %s\n", id, out.Message)
	return nil
}

const policyUsage = "usage: klaxon policy add NAME --step TARGET[,TARGET...][@DELAY] [--step ...] [--repeat N] | klaxon policy list | klaxon policy show NAME"

// runPolicy is `klaxon policy add|list|show`.
func runPolicy(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{policyUsage}
	}
	switch args[0] {
	case "add":
		return addPolicy(ctx, e, args[1:])
	case "list":
		return listPolicies(ctx, e, args[1:])
	case "show":
		if len(args) != 2 {
			return usageError{"usage: klaxon policy show NAME"}
		}
		c, err := newAPIClient(e)
		if err != nil {
			return err
		}
		return c.show(ctx, e.stdout, "/api/v1/policies/"+url.PathEscape(args[1]))
	default:
		return usageError{fmt.Sprintf("unknown policy subcommand %q; %s", args[0], policyUsage)}
	}
}

// stepFlags collects repeated --step flags.
type stepFlags []string

func (s *stepFlags) String() string     { return strings.Join(*s, " ") }
func (s *stepFlags) Set(v string) error { *s = append(*s, v); return nil }

// policyStep is one step as the API takes it.
type policyStep struct {
	Targets      []string `json:"targets"`
	DelaySeconds int      `json:"delay_seconds"`
}

// parseStep reads "user:alice,rotation:ops@5m": targets, then the wait
// before the next step (default 5 minutes).
func parseStep(s string) (policyStep, error) {
	targets, delay, hasDelay := strings.Cut(s, "@")
	st := policyStep{DelaySeconds: 300}
	if hasDelay {
		d, err := time.ParseDuration(strings.TrimSpace(delay))
		if err != nil || d < time.Second || d%time.Second != 0 {
			return st, usageError{fmt.Sprintf("step %q: the delay after @ must be a whole number of seconds, like 90s or 5m", s)}
		}
		st.DelaySeconds = int(d / time.Second)
	}
	for _, t := range strings.Split(targets, ",") {
		if t = strings.TrimSpace(t); t != "" {
			st.Targets = append(st.Targets, t)
		}
	}
	if len(st.Targets) == 0 {
		return st, usageError{fmt.Sprintf("step %q names nobody: use user:HANDLE or rotation:NAME", s)}
	}
	return st, nil
}

func addPolicy(ctx context.Context, e env, args []string) error {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	fs := newFlags("policy add", e)
	var steps stepFlags
	fs.Var(&steps, "step", "a step: TARGET[,TARGET...][@DELAY], e.g. user:alice@5m (repeatable, in order)")
	repeat := fs.Int("repeat", 0, "how many more times to run the steps when nobody acknowledges")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	if name == "" || len(steps) == 0 {
		return usageError{policyUsage}
	}
	req := struct {
		Name   string       `json:"name"`
		Repeat int          `json:"repeat"`
		Steps  []policyStep `json:"steps"`
	}{Name: name, Repeat: *repeat}
	for _, s := range steps {
		st, err := parseStep(s)
		if err != nil {
			return err
		}
		req.Steps = append(req.Steps, st)
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	if err := c.do(ctx, http.MethodPost, "/api/v1/policies", req, nil); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, name)
	return nil
}

func listPolicies(ctx context.Context, e env, args []string) error {
	if len(args) != 0 {
		return usageError{"usage: klaxon policy list"}
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	var out struct {
		Policies []struct {
			Name   string       `json:"name"`
			Repeat int          `json:"repeat"`
			Steps  []policyStep `json:"steps"`
		} `json:"policies"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/policies", nil, &out); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREPEAT\tSTEPS")
	for _, p := range out.Policies {
		parts := make([]string, 0, len(p.Steps))
		for _, s := range p.Steps {
			parts = append(parts, strings.Join(s.Targets, ",")+"@"+(time.Duration(s.DelaySeconds)*time.Second).String())
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", p.Name, p.Repeat, strings.Join(parts, " → "))
	}
	return tw.Flush()
}
