package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/api"
)

// messageCmd is `klaxon message send|show`.
type messageCmd struct {
	Send messageSendCmd `cmd:"" help:"Send a message through the delivery pipeline; prints its id."`
	Show messageShowCmd `cmd:"" help:"Show a message: its status, attempts and the provider's callbacks."`
}

type messageSendCmd struct {
	Channel string `default:"sms" help:"sms, voice or email."`
	To      string `required:"" placeholder:"ADDRESS" help:"Phone number or email address."`
	Body    string `required:"" help:"The message."`
	Subject string `help:"Email subject."`
}

func (c *messageSendCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.SendMessage(e.ctx, api.CreateMessageRequest{Channel: c.Channel, To: c.To, Body: c.Body, Subject: c.Subject})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, out.ID)
	return nil
}

type messageShowCmd struct {
	ID string `arg:"" help:"The message's id."`
	jsonFlag
}

func (c *messageShowCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	m, err := cl.Message(e.ctx, c.ID)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, m)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Message\t%s\n", m.ID)
	fmt.Fprintf(tw, "Channel\t%s\n", m.Channel)
	if m.From != "" {
		fmt.Fprintf(tw, "From\t%s\n", m.From)
	}
	fmt.Fprintf(tw, "To\t%s\n", m.To)
	status := m.Status
	if m.ErrorReason != "" {
		status += " (" + m.ErrorReason + ")"
	}
	fmt.Fprintf(tw, "Status\t%s\n", status)
	if m.Purpose != "" {
		fmt.Fprintf(tw, "Purpose\t%s\n", m.Purpose)
	}
	fmt.Fprintf(tw, "Created\t%s\n", when(m.CreatedAt))
	if m.Subject != "" {
		fmt.Fprintf(tw, "Subject\t%s\n", m.Subject)
	}
	fmt.Fprintf(tw, "Body\t%s\n", clipLine(m.Body, 200))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(m.Attempts) > 0 {
		fmt.Fprintln(e.stdout, "\nAttempts:")
		tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\tLANE\tSTARTED\tTOOK\tOUTCOME\tPROVIDER ID\tERROR")
		for _, a := range m.Attempts {
			took := "-"
			if a.FinishedAt != nil {
				took = humanDuration(a.FinishedAt.Sub(a.StartedAt).Round(time.Millisecond))
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Attempt, a.Lane, when(a.StartedAt), took, a.Outcome, orDash(a.ProviderID), orDash(joinNonEmpty(a.ErrorKind, a.ErrorCode, a.ErrorReason)))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(m.Events) > 0 {
		fmt.Fprintln(e.stdout, "\nProvider status:")
		tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		for _, ev := range m.Events {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", when(ev.ReceivedAt), ev.Status, joinNonEmpty(ev.ErrorCode, ev.Detail))
		}
		return tw.Flush()
	}
	return nil
}
