package main

import (
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/klaxonhq/klaxon/api"
)

// userCmd is `klaxon user add|list|show|edit`.
type userCmd struct {
	Add  userAddCmd  `cmd:"" help:"Add a person Klaxon can reach."`
	List userListCmd `cmd:"" help:"List the users."`
	Show userShowCmd `cmd:"" help:"Show a user and their contact methods."`
	Edit userEditCmd `cmd:"" help:"Change a user's name, timezone, chat nick or Matrix id, or (de)activate them."`
}

type userAddCmd struct {
	Handle   string `arg:"" help:"Lowercase handle, e.g. alice."`
	Name     string `required:"" help:"The person's name."`
	Timezone string `default:"UTC" placeholder:"TZ" help:"IANA timezone, e.g. Europe/Berlin."`
	Nick     string `placeholder:"NICK" help:"Chat nick (default: the handle)."`
	MatrixID string `name:"matrix-id" placeholder:"@NAME:SERVER" help:"Matrix user id."`
}

type userEditCmd struct {
	Handle     string  `arg:""`
	Name       *string `help:"The person's name."`
	Timezone   *string `placeholder:"TZ" help:"IANA timezone, e.g. Europe/Berlin."`
	Nick       *string `placeholder:"NICK" help:"Chat nick."`
	MatrixID   *string `name:"matrix-id" placeholder:"@NAME:SERVER" help:"Matrix user id (empty to unlink)."`
	IRCAccount *string `name:"irc-account" placeholder:"ACCOUNT" help:"IRC services account, when it differs from the nick (empty to clear)."`
	Active     *bool   `negatable:"" help:"--no-active deactivates the user (paged no more, history kept); --active reactivates."`
}

func (c *userEditCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	u, err := cl.UpdateUser(e.ctx, c.Handle, api.UserPatch{Name: c.Name, Timezone: c.Timezone, Nick: c.Nick,
		MatrixID: c.MatrixID, IRCAccount: c.IRCAccount, Active: c.Active})
	if err != nil {
		return err
	}
	state := "active"
	if !u.Active {
		state = "deactivated"
	}
	fmt.Fprintf(e.stdout, "user %s updated (%s, %s, nick %s, %s)\n", u.Handle, u.Name, u.Timezone, u.Nick, state)
	return nil
}

func (c *userAddCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	u, err := cl.CreateUser(e.ctx, api.UserRequest{Handle: c.Handle, Name: c.Name, Timezone: c.Timezone, Nick: c.Nick, MatrixID: c.MatrixID})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s added (%s, %s)\n", u.Handle, u.Name, u.Timezone)
	return nil
}

type userListCmd struct{}

func (c *userListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	users, err := cl.Users(e.ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HANDLE\tNAME\tTIMEZONE\tNICK\tSOURCE")
	for _, u := range users {
		src := u.Source
		if !u.Active {
			src += " (deactivated)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Handle, u.Name, u.Timezone, u.Nick, src)
	}
	return tw.Flush()
}

type userShowCmd struct {
	Handle string `arg:""`
	jsonFlag
}

func (c *userShowCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	u, err := cl.User(e.ctx, c.Handle)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, u)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "User\t%s\n", u.Handle)
	fmt.Fprintf(tw, "Name\t%s\n", u.Name)
	fmt.Fprintf(tw, "Timezone\t%s\n", u.Timezone)
	fmt.Fprintf(tw, "Nick\t%s\n", u.Nick)
	if u.MatrixID != "" {
		fmt.Fprintf(tw, "Matrix\t%s\n", u.MatrixID)
	}
	if u.IRCAccount != "" {
		fmt.Fprintf(tw, "IRC account\t%s\n", u.IRCAccount)
	}
	fmt.Fprintf(tw, "Source\t%s\n", u.Source)
	if u.LDAPDN != "" {
		fmt.Fprintf(tw, "Directory entry\t%s\n", u.LDAPDN)
	}
	switch {
	case !u.Active && u.DeactivatedAt != nil:
		fmt.Fprintf(tw, "Status\tdeactivated %s (paged no more)\n", when(*u.DeactivatedAt))
	case !u.Active:
		fmt.Fprintf(tw, "Status\tdeactivated (paged no more)\n")
	default:
		fmt.Fprintf(tw, "Status\tactive\n")
	}
	fmt.Fprintf(tw, "Added\t%s\n", when(u.CreatedAt))
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(u.Contacts) == 0 {
		fmt.Fprintf(e.stdout, "\nNo contact methods yet; add one with `klaxon contact add %s sms|voice|email|irc|matrix ADDRESS`.\n", u.Handle)
		return nil
	}
	fmt.Fprintln(e.stdout, "\nContacts:")
	return printContacts(e, u.Contacts, "  ")
}

func printContacts(e *cmdEnv, cs []api.Contact, indent string) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, indent+"ID\tTYPE\tADDRESS\tSTATUS\tVERIFICATION")
	for _, ct := range cs {
		v := "-"
		if ct.Verification != nil {
			v = ct.Verification.Status
			if ct.Verification.Status == "pending" && ct.Verification.ExpiresAt != nil {
				v += fmt.Sprintf(" (code expires %s, %d tries left)", ct.Verification.ExpiresAt.Local().Format("15:04:05"), ct.Verification.AttemptsLeft)
			}
		}
		fmt.Fprintf(tw, "%s%d\t%s\t%s\t%s\t%s\n", indent, ct.ID, ct.Type, ct.Address, ct.Status, v)
	}
	return tw.Flush()
}

// contactCmd is `klaxon contact add|verify|resend|list`.
type contactCmd struct {
	Add    contactAddCmd    `cmd:"" help:"Add a contact method to a user; a verification code is sent to it."`
	Verify contactVerifyCmd `cmd:"" help:"Verify a contact method with the code it received."`
	Resend contactResendCmd `cmd:"" help:"Send a contact method a new code."`
	List   contactListCmd   `cmd:"" help:"List a user's contact methods."`
}

type contactAddCmd struct {
	Handle  string `arg:""`
	Type    string `arg:"" help:"sms, voice, email, irc or matrix."`
	Address string `arg:"" help:"Phone number, email address, IRC nick or Matrix id (@alice:example.org)."`
}

func (c *contactAddCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.AddContact(e.ctx, c.Handle, api.ContactRequest{Type: c.Type, Address: c.Address})
	if err != nil {
		return err
	}
	if out.Status == "verified" {
		fmt.Fprintf(e.stdout, "contact %d (%s %s) is already verified\n", out.ID, out.Type, out.Address)
		return nil
	}
	fmt.Fprintf(e.stdout, "contact %d (%s %s) is pending: a code is on its way.\nVerify it with: klaxon contact verify %d CODE\n",
		out.ID, out.Type, out.Address, out.ID)
	return nil
}

// contactID is a contact method's id on the command line.
type contactID int64

// UnmarshalText refuses anything but a positive number, in one sentence.
func (id *contactID) UnmarshalText(b []byte) error {
	var n int64
	if _, err := fmt.Sscan(string(b), &n); err != nil || n <= 0 || fmt.Sprint(n) != string(b) {
		return fmt.Errorf("%q is not a contact id (a number; see klaxon contact list HANDLE)", string(b))
	}
	*id = contactID(n)
	return nil
}

type contactVerifyCmd struct {
	ID   contactID `arg:""`
	Code string    `arg:""`
}

func (c *contactVerifyCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	if _, err := cl.VerifyContact(e.ctx, int64(c.ID), c.Code); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "contact %d verified\n", c.ID)
	return nil
}

type contactResendCmd struct {
	ID contactID `arg:""`
}

func (c *contactResendCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.ResendCode(e.ctx, int64(c.ID))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "a new code is on its way to contact %d (%s %s)\n", c.ID, out.Type, out.Address)
	return nil
}

type contactListCmd struct {
	Handle string `arg:""`
}

func (c *contactListCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	cs, err := cl.Contacts(e.ctx, c.Handle)
	if err != nil {
		return err
	}
	return printContacts(e, cs, "")
}

// otpCmd is `klaxon otp send|check`: login codes, as another application
// would ask for them.
type otpCmd struct {
	Send  otpSendCmd  `cmd:"" help:"Text a login code to a number or a user; prints the code's id."`
	Check otpCheckCmd `cmd:"" help:"Check a login code; exits 0 and prints valid only if it is."`
}

type otpSendCmd struct {
	Phone string `xor:"to" required:"" placeholder:"NUMBER" help:"The number to text the code to."`
	User  string `xor:"to" required:"" placeholder:"HANDLE" help:"The user whose verified SMS number gets the code."`
}

func (c *otpSendCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.SendOTP(e.ctx, api.OTPRequest{Phone: c.Phone, User: c.User})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, out.ID)
	return nil
}

type otpCheckCmd struct {
	ID   string `arg:""`
	Code string `arg:""`
}

func (c *otpCheckCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.CheckOTP(e.ctx, c.ID, c.Code)
	if err != nil {
		return err
	}
	if !out.Valid {
		return errors.New("that code is not valid")
	}
	fmt.Fprintln(e.stdout, "valid")
	return nil
}
