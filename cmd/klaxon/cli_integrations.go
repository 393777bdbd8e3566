package main

import (
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/klaxonhq/klaxon/api"
)

// serviceCmd is `klaxon service add|list|show|rotate-key|delete`.
type serviceCmd struct {
	Add       serviceAddCmd    `cmd:"" help:"Add a service; prints its integration key (shown once) and the URLs monitors post to."`
	List      serviceListCmd   `cmd:"" help:"List the services."`
	Show      serviceShowCmd   `cmd:"" help:"Show a service (its key is never shown again)."`
	RotateKey serviceRotateCmd `cmd:"" name:"rotate-key" help:"Give a service a new key; the old one stops working at once."`
	Delete    serviceDeleteCmd `cmd:"" help:"Delete a service; its pages stay."`
}

type serviceAddCmd struct {
	Name   string `arg:"" help:"The service's name, e.g. api."`
	Target string `short:"t" required:"" placeholder:"TARGET" help:"Whom its alerts page: user:HANDLE, rotation:NAME or policy:NAME."`
	jsonFlag
}

func (c *serviceAddCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	s, err := cl.CreateService(e.ctx, api.ServiceRequest{Name: c.Name, Target: c.Target})
	if err != nil {
		return err
	}
	return printService(e, s, c.JSON)
}

type serviceListCmd struct{}

func (c *serviceListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	ss, err := cl.Services(e.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTARGET\tKEY ROTATED")
	for _, s := range ss {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Target, s.KeyRotatedAt.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

type serviceShowCmd struct {
	Name string `arg:""`
	jsonFlag
}

func (c *serviceShowCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	s, err := cl.Service(e.ctx, c.Name)
	if err != nil {
		return err
	}
	return printService(e, s, c.JSON)
}

type serviceRotateCmd struct {
	Name string `arg:""`
	jsonFlag
}

func (c *serviceRotateCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	s, err := cl.RotateServiceKey(e.ctx, c.Name)
	if err != nil {
		return err
	}
	return printService(e, s, c.JSON)
}

type serviceDeleteCmd struct {
	Name string `arg:""`
}

func (c *serviceDeleteCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	if err := cl.DeleteService(e.ctx, c.Name); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted service %s\n", c.Name)
	return nil
}

// printService writes a service; its key and URLs when the answer has them.
func printService(e *cmdEnv, s api.Service, asJSON bool) error {
	if asJSON {
		return printJSON(e.stdout, s)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Service\t%s\n", s.Name)
	fmt.Fprintf(tw, "Pages\t%s\n", s.Target)
	if s.Key != "" {
		fmt.Fprintf(tw, "Key\t%s  (shown once: keep it now)\n", s.Key)
		fmt.Fprintf(tw, "Alertmanager\t%s\n", s.AlertmanagerURL)
		fmt.Fprintf(tw, "Events\t%s\n", s.EventsURL)
	}
	fmt.Fprintf(tw, "Key rotated\t%s\n", s.KeyRotatedAt.Local().Format("2006-01-02 15:04:05"))
	return tw.Flush()
}

// subscriptionCmd is `klaxon subscription add|list|remove`.
type subscriptionCmd struct {
	Add    subscriptionAddCmd    `cmd:"" help:"Send a user an FYI when a page event matches; prints its id."`
	List   subscriptionListCmd   `cmd:"" help:"List a user's subscriptions."`
	Remove subscriptionRemoveCmd `cmd:"" help:"Remove a subscription."`
}

type subscriptionAddCmd struct {
	User     string `arg:"" help:"The subscriber's handle."`
	Then     string `name:"then" required:"" enum:"sms,email,call" placeholder:"sms|email|call" help:"How the FYI reaches them."`
	Service  string `help:"Only pages opened by this service."`
	Target   string `help:"Only pages of this target (user:HANDLE, rotation:NAME, policy:NAME)."`
	Event    string `enum:",opened,acked,resolved" default:"" placeholder:"opened|acked|resolved" help:"Only this page event (default: all three)."`
	Contains string `help:"Only pages whose summary or details contain these words."`
}

func (c *subscriptionAddCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	s, err := cl.Subscribe(e.ctx, c.User, api.SubscriptionRequest{
		When: api.SubscriptionWhen{Service: c.Service, Target: c.Target, Event: c.Event, Contains: c.Contains}, Then: c.Then,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, s.ID)
	return nil
}

type subscriptionListCmd struct {
	User string `arg:""`
	jsonFlag
}

func (c *subscriptionListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	subs, err := cl.Subscriptions(e.ctx, c.User)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, subs)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTHEN\tSERVICE\tTARGET\tEVENT\tCONTAINS")
	for _, s := range subs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Then, orAny(s.When.Service), orAny(s.When.Target), orAny(s.When.Event), s.When.Contains)
	}
	return tw.Flush()
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

type subscriptionRemoveCmd struct {
	User string `arg:""`
	ID   int64  `arg:""`
}

func (c *subscriptionRemoveCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	if err := cl.Unsubscribe(e.ctx, c.User, c.ID); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "removed subscription "+strconv.FormatInt(c.ID, 10))
	return nil
}
