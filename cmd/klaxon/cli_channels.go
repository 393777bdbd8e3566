package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/klaxonhq/klaxon/api"
)

// channelCmd is `klaxon channel create|list|show|delete`.
type channelCmd struct {
	Create channelCreateCmd `cmd:"" help:"Create a channel; prints its phone number."`
	List   channelListCmd   `cmd:"" help:"List the live channels."`
	Show   channelShowCmd   `cmd:"" help:"Show a channel's counts and latest broadcasts."`
	Delete channelDeleteCmd `cmd:"" help:"Delete a channel."`
}

type channelCreateCmd struct {
	Phone     string `short:"p" placeholder:"PHONE" help:"The channel's phone number (default: one from the reserve pool)."`
	Admins    string `short:"a" required:"" placeholder:"ADMIN[,ADMIN...]" help:"Comma-separated admin phone numbers, e.g. +15551234567,+15557654321."`
	RequestID string `name:"request-id" placeholder:"ID" help:"Idempotency key: the same id again gets the same channel (default: a fresh one, kept across retries)."`
}

func (c *channelCreateCmd) Run(e *cmdEnv) error {
	admins := splitList(c.Admins)
	if len(admins) == 0 {
		return usageError{"channel create needs -a with at least one admin phone number"}
	}
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.CreateChannel(e.ctx, api.CreateChannelRequest{Phone: c.Phone, Admins: admins, RequestID: c.RequestID})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, out.Phone)
	return nil
}

type channelListCmd struct{}

func (c *channelListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	chs, err := cl.Channels(e.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHONE\tKIND\tADMINS\tSUBSCRIBERS\tHOTLINE")
	for _, ch := range chs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", ch.Phone, ch.Kind, ch.Admins, ch.Subscribers, onOff(ch.HotlineOn))
	}
	return tw.Flush()
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

type channelShowCmd struct {
	Phone string `arg:""`
	jsonFlag
}

func (c *channelShowCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	ch, err := cl.Channel(e.ctx, c.Phone)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, ch)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Channel\t%s\n", ch.Phone)
	fmt.Fprintf(tw, "Kind\t%s\n", ch.Kind)
	fmt.Fprintf(tw, "Admins\t%d\n", ch.Admins)
	fmt.Fprintf(tw, "Subscribers\t%d\n", ch.Subscribers)
	fmt.Fprintf(tw, "Hotline\t%s\n", onOff(ch.HotlineOn))
	fmt.Fprintf(tw, "Created\t%s\n", when(ch.CreatedAt))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(ch.Broadcasts) == 0 {
		fmt.Fprintln(e.stdout, "\nNo broadcasts yet.")
		return nil
	}
	fmt.Fprintln(e.stdout, "\nLatest broadcasts:")
	tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STARTED\tRECIPIENTS\tQUEUED\tSENT\tDELIVERED\tFAILED\tDONE")
	for _, b := range ch.Broadcasts {
		done := "no"
		if b.Done {
			done = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t%d\t%s\n", when(b.CreatedAt), b.Recipients, b.Queued, b.Sent, b.Delivered, b.Failed, done)
	}
	return tw.Flush()
}

type channelDeleteCmd struct {
	Phone string `arg:""`
}

func (c *channelDeleteCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	if err := cl.DeleteChannel(e.ctx, c.Phone); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "deleted %s\n", c.Phone)
	return nil
}

// numberCmd is `klaxon number add|list|provision`: the reserve pool.
type numberCmd struct {
	Add       numberAddCmd       `cmd:"" help:"Put a number you own (its SMS webhook pointing at Klaxon) into the pool."`
	List      numberListCmd      `cmd:"" help:"List the pool and its counts."`
	Provision numberProvisionCmd `cmd:"" help:"Buy numbers through the provider for the pool; prints each one bought."`
}

type numberAddCmd struct {
	Phone string `arg:""`
}

func (c *numberAddCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.AddNumber(e.ctx, c.Phone)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s\n", out.Phone, out.State)
	return nil
}

type numberListCmd struct{}

func (c *numberListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.Numbers(e.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHONE\tSTATE\tSOURCE\tERROR")
	for _, n := range out.Numbers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.Phone, n.State, n.Source, n.Error)
	}
	fmt.Fprintf(tw, "\n%d available (reserve size %d), %d active channels\n", out.Available, out.ReserveSize, out.ActiveChannels)
	return tw.Flush()
}

type numberProvisionCmd struct {
	Count     int    `short:"n" default:"1" help:"How many numbers to buy."`
	AreaCode  string `name:"area-code" placeholder:"X" help:"Area code to buy in, e.g. 415."`
	RequestID string `name:"request-id" placeholder:"ID" help:"Idempotency key: the same id again buys nothing more (default: a fresh one, kept across retries)."`
}

func (c *numberProvisionCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.Provision(e.ctx, api.ProvisionRequest{Count: c.Count, AreaCode: c.AreaCode, RequestID: c.RequestID})
	if err != nil {
		return err
	}
	for _, p := range out.Bought {
		fmt.Fprintln(e.stdout, p)
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("bought %d of %d numbers; first failure: %s", len(out.Bought), c.Count, out.Failed[0].Reason)
	}
	return nil
}
