package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/api"
)

// pageCmd is `klaxon page`: page someone (the default), or show or list
// pages.
type pageCmd struct {
	Create pageCreateCmd `cmd:"" default:"withargs" help:"Page someone until they acknowledge; prints the page's id. The default: klaxon page --target T --summary S."`
	Show   pageShowCmd   `cmd:"" help:"Show a page and its timeline, in time order."`
	List   pageListCmd   `cmd:"" help:"List pages, newest first."`
}

type pageCreateCmd struct {
	Target        string        `required:"" placeholder:"user:HANDLE|rotation:NAME|policy:NAME" help:"Whom to page."`
	Summary       string        `required:"" placeholder:"TEXT" help:"What is wrong, in a line (texts are shortened to fit one SMS)."`
	Details       string        `placeholder:"TEXT" help:"More, for the email."`
	Mode          string        `placeholder:"escalate|blast" help:"escalate (default: text, then call, then email) or blast (every contact at once)."`
	Urgency       string        `placeholder:"high|low" help:"high (default) or low (one text, never a call)."`
	DedupKey      string        `name:"dedup-key" placeholder:"K" help:"The same key while the page is open returns the same page."`
	EscalateAfter time.Duration `name:"escalate-after" placeholder:"1m" help:"Wait before each next medium or step, overriding the rules."`
}

func (c *pageCreateCmd) Run(e *cmdEnv) error {
	if strings.TrimSpace(c.Summary) == "" {
		return usageError{"--summary must say what is wrong"}
	}
	req := api.CreatePageRequest{Target: c.Target, Summary: c.Summary, Details: c.Details, Mode: c.Mode, Urgency: c.Urgency, DedupKey: c.DedupKey}
	if c.EscalateAfter != 0 {
		if c.EscalateAfter < time.Second || c.EscalateAfter%time.Second != 0 {
			return usageError{"--escalate-after must be a whole number of seconds, at least 1s"}
		}
		s := int(c.EscalateAfter / time.Second)
		req.EscalateAfterSeconds = &s
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.CreatePage(e.ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, out.ID)
	if out.Deduplicated {
		fmt.Fprintf(e.stderr, "page %d with this dedup key is already %s; nobody was paged again\n", out.ID, out.Status)
	}
	return nil
}

// pageID is a page's id on the command line: "2" or "#2".
type pageID int64

// UnmarshalText refuses anything but a positive number, in one sentence.
func (id *pageID) UnmarshalText(b []byte) error {
	n, err := strconv.ParseInt(strings.TrimPrefix(string(b), "#"), 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("%q is not a page id (a positive number)", string(b))
	}
	*id = pageID(n)
	return nil
}

type pageShowCmd struct {
	ID pageID `arg:""`
	jsonFlag
}

func (c *pageShowCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	p, err := cl.Page(e.ctx, int64(c.ID))
	if err != nil {
		return err
	}
	// The API answers with the timeline in the order things happened
	// (store.OrderTimeline): not re-sorted here by the recorded times, which
	// a provider's racing callbacks put out of order.
	if c.JSON {
		return printJSON(e.stdout, p)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Page\t#%d\n", p.ID)
	fmt.Fprintf(tw, "Status\t%s\n", p.Status)
	fmt.Fprintf(tw, "Target\t%s\n", p.Target)
	fmt.Fprintf(tw, "Summary\t%s\n", p.Summary)
	if p.Details != "" {
		fmt.Fprintf(tw, "Details\t%s\n", clipLine(p.Details, 200))
	}
	how := p.Mode + ", urgency " + p.Urgency
	if p.EscalateAfterSeconds > 0 {
		how += ", escalating after " + humanDuration(time.Duration(p.EscalateAfterSeconds)*time.Second)
	}
	fmt.Fprintf(tw, "Mode\t%s\n", how)
	if p.DedupKey != "" {
		fmt.Fprintf(tw, "Dedup key\t%s\n", p.DedupKey)
	}
	created := when(p.CreatedAt)
	if p.RequestedBy != "" {
		created += " by " + p.RequestedBy
	}
	fmt.Fprintf(tw, "Created\t%s\n", created)
	if p.AckedAt != nil {
		fmt.Fprintf(tw, "Acknowledged\t%s by %s, after %s\n", when(*p.AckedAt), orDash(p.AckedBy), humanDuration(p.AckedAt.Sub(p.CreatedAt).Round(time.Second)))
	}
	if p.ResolvedAt != nil {
		fmt.Fprintf(tw, "Resolved\t%s by %s, after %s\n", when(*p.ResolvedAt), orDash(p.ResolvedBy), humanDuration(p.ResolvedAt.Sub(p.CreatedAt).Round(time.Second)))
	}
	fmt.Fprintf(tw, "Workflow\t%s\n", p.WorkflowID)
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Events) == 0 {
		return nil
	}
	fmt.Fprintln(e.stdout, "\nTimeline:")
	tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, ev := range p.Events {
		who := ev.User
		if ev.Medium != "" {
			who = joinNonEmpty(who, string(ev.Medium))
			if ev.Contact != "" {
				who += " " + ev.Contact
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", ev.At.Local().Format("15:04:05.000"), ev.Kind, orDash(who), ev.Detail)
	}
	return tw.Flush()
}

type pageListCmd struct {
	Status string `placeholder:"open|acked|resolved" help:"Only pages with this status (default: all)."`
	Limit  int    `default:"50" help:"How many, newest first."`
}

func (c *pageListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	pages, err := cl.Pages(e.ctx, c.Status, c.Limit)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tTARGET\tCREATED\tSUMMARY")
	for _, p := range pages {
		st := p.Status
		if p.AckedBy != "" {
			st += " (" + p.AckedBy + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, st, p.Target, p.CreatedAt.Local().Format("2006-01-02 15:04"), clipLine(p.Summary, 60))
	}
	return tw.Flush()
}

// ackCmd is `klaxon ack ID [--by NAME]`.
type ackCmd struct {
	pageActionArgs
}

func (c *ackCmd) Run(e *cmdEnv) error { return c.run(e, "ack") }

// resolveCmd is `klaxon resolve ID [--by NAME]`.
type resolveCmd struct {
	pageActionArgs
}

func (c *resolveCmd) Run(e *cmdEnv) error { return c.run(e, "resolve") }

type pageActionArgs struct {
	ID pageID `arg:""`
	By string `placeholder:"NAME" help:"Who is acting (default: your user name, for the page's timeline)."`
}

func (c *pageActionArgs) run(e *cmdEnv, action string) error {
	by := c.By
	if by == "" {
		// Who ran the command, for the page's timeline.
		by = "cli"
		if u := e.getenv("USER"); u != "" {
			by = u + " (cli)"
		}
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	act := cl.Ack
	if action == "resolve" {
		act = cl.Resolve
	}
	out, err := act(e.ctx, int64(c.ID), by)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, out.Message) // "Acknowledged page #2: ..."
	return nil
}

// policyCmd is `klaxon policy add|list|show`.
type policyCmd struct {
	Add  policyAddCmd  `cmd:"" help:"Add an escalation policy."`
	List policyListCmd `cmd:"" help:"List the escalation policies."`
	Show policyShowCmd `cmd:"" help:"Show an escalation policy."`
}

type policyAddCmd struct {
	Name   string   `arg:""`
	Step   []string `required:"" sep:"none" placeholder:"TARGET[,TARGET...][@DELAY]" help:"A step, e.g. user:alice@5m: whom to page, then how long to wait before the next step (default 5m). Repeatable, in order."`
	Repeat int      `help:"How many more times to run the steps when nobody acknowledges."`
}

// parseStep reads "user:alice,rotation:ops@5m": targets, then the wait
// before the next step (default 5 minutes).
func parseStep(s string) (api.PolicyStep, error) {
	targets, delay, hasDelay := strings.Cut(s, "@")
	st := api.PolicyStep{DelaySeconds: 300}
	if hasDelay {
		d, err := time.ParseDuration(strings.TrimSpace(delay))
		if err != nil || d < time.Second || d%time.Second != 0 {
			return st, usageError{fmt.Sprintf("step %q: the delay after @ must be a whole number of seconds, like 90s or 5m", s)}
		}
		st.DelaySeconds = int(d / time.Second)
	}
	st.Targets = splitList(targets)
	if len(st.Targets) == 0 {
		return st, usageError{fmt.Sprintf("step %q names nobody: use user:HANDLE or rotation:NAME", s)}
	}
	return st, nil
}

func (c *policyAddCmd) Run(e *cmdEnv) error {
	req := api.PolicyRequest{Name: c.Name, Repeat: c.Repeat}
	for _, s := range c.Step {
		st, err := parseStep(s)
		if err != nil {
			return err
		}
		req.Steps = append(req.Steps, st)
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	if _, err := cl.CreatePolicy(e.ctx, req); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, c.Name)
	return nil
}

// describeSteps writes a policy's steps in a line, each as --step takes it
// (TARGET[,TARGET...]@DELAY), so that a listed policy can be typed again.
func describeSteps(steps []api.PolicyStep) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		parts = append(parts, strings.Join(s.Targets, ",")+"@"+compactDuration(time.Duration(s.DelaySeconds)*time.Second))
	}
	return strings.Join(parts, " → ")
}

type policyListCmd struct{}

func (c *policyListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	ps, err := cl.Policies(e.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tREPEAT\tSTEPS")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", p.Name, p.Repeat, describeSteps(p.Steps))
	}
	return tw.Flush()
}

type policyShowCmd struct {
	Name string `arg:""`
	jsonFlag
}

func (c *policyShowCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	p, err := cl.Policy(e.ctx, c.Name)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, p)
	}
	repeat := "once"
	if p.Repeat > 0 {
		repeat = fmt.Sprintf("%d more times when nobody acknowledges", p.Repeat)
	}
	fmt.Fprintf(e.stdout, "Policy %s: the steps run %s.\n", p.Name, repeat)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for i, s := range p.Steps {
		fmt.Fprintf(tw, "  %d.\tpage %s,\tthen wait %s\n", i+1, strings.Join(s.Targets, ", "), humanDuration(time.Duration(s.DelaySeconds)*time.Second))
	}
	return tw.Flush()
}
