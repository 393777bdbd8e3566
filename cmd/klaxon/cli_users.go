package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// parseInterleaved parses flags that may come before, between or after the
// positional arguments (`user add alice --name Alice`), and returns the
// positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// userJSON is a user as the API shows it.
type userJSON struct {
	ID       int64         `json:"id"`
	Handle   string        `json:"handle"`
	Name     string        `json:"name"`
	Timezone string        `json:"timezone"`
	Contacts []contactJSON `json:"contacts"`
}

// contactJSON is a contact method as the API shows it.
type contactJSON struct {
	ID           int64  `json:"id"`
	Type         string `json:"type"`
	Address      string `json:"address"`
	Status       string `json:"status"`
	Verification *struct {
		Status       string     `json:"status"`
		Sends        int        `json:"sends"`
		AttemptsLeft int        `json:"attempts_left"`
		ExpiresAt    *time.Time `json:"expires_at"`
	} `json:"verification"`
}

const userUsage = "usage: klaxon user add HANDLE --name NAME [--timezone TZ] | klaxon user list | klaxon user show HANDLE"

// runUser is `klaxon user add|list|show`.
func runUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{userUsage}
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		fs := newFlags("user add", e)
		name := fs.String("name", "", "the person's name (required)")
		tz := fs.String("timezone", "UTC", "IANA timezone, e.g. Europe/Berlin")
		pos, err := parseInterleaved(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usageError{"usage: klaxon user add HANDLE --name NAME [--timezone TZ]"}
		}
		var u userJSON
		if err := c.do(ctx, http.MethodPost, "/api/v1/users", map[string]string{"handle": pos[0], "name": *name, "timezone": *tz}, &u); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s added (%s, %s)\n", u.Handle, u.Name, u.Timezone)
		return nil
	case "list":
		if len(args) != 1 {
			return usageError{"usage: klaxon user list"}
		}
		var out struct {
			Users []userJSON `json:"users"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/users", nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "HANDLE\tNAME\tTIMEZONE")
		for _, u := range out.Users {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", u.Handle, u.Name, u.Timezone)
		}
		return tw.Flush()
	case "show":
		if len(args) != 2 {
			return usageError{"usage: klaxon user show HANDLE"}
		}
		return c.show(ctx, e.stdout, "/api/v1/users/"+url.PathEscape(args[1]))
	default:
		return usageError{fmt.Sprintf("unknown user subcommand %q: use add, list or show", args[0])}
	}
}

const contactUsage = "usage: klaxon contact add HANDLE sms|voice|email ADDRESS | verify ID CODE | resend ID | list HANDLE"

// runContact is `klaxon contact add|verify|resend|list`.
func runContact(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{contactUsage}
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	switch args[0] {
	case "add":
		if len(args) != 4 {
			return usageError{"usage: klaxon contact add HANDLE sms|voice|email ADDRESS"}
		}
		var out contactJSON
		body := map[string]string{"type": args[2], "address": args[3]}
		if err := c.do(ctx, http.MethodPost, "/api/v1/users/"+url.PathEscape(args[1])+"/contacts", body, &out); err != nil {
			return err
		}
		if out.Status == "verified" {
			fmt.Fprintf(e.stdout, "contact %d (%s %s) is already verified\n", out.ID, out.Type, out.Address)
			return nil
		}
		fmt.Fprintf(e.stdout, "contact %d (%s %s) is pending: a code is on its way.\nVerify it with: klaxon contact verify %d CODE\n",
			out.ID, out.Type, out.Address, out.ID)
		return nil
	case "verify":
		if len(args) != 3 {
			return usageError{"usage: klaxon contact verify ID CODE"}
		}
		id, err := contactArg(args[1])
		if err != nil {
			return err
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/contacts/"+id+"/verify", map[string]string{"code": args[2]}, nil); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "contact %s verified\n", id)
		return nil
	case "resend":
		if len(args) != 2 {
			return usageError{"usage: klaxon contact resend ID"}
		}
		id, err := contactArg(args[1])
		if err != nil {
			return err
		}
		var out contactJSON
		if err := c.do(ctx, http.MethodPost, "/api/v1/contacts/"+id+"/resend", struct{}{}, &out); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "a new code is on its way to contact %s (%s %s)\n", id, out.Type, out.Address)
		return nil
	case "list":
		if len(args) != 2 {
			return usageError{"usage: klaxon contact list HANDLE"}
		}
		var out struct {
			Contacts []contactJSON `json:"contacts"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/v1/users/"+url.PathEscape(args[1])+"/contacts", nil, &out); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tTYPE\tADDRESS\tSTATUS\tVERIFICATION")
		for _, ct := range out.Contacts {
			v := "-"
			if ct.Verification != nil {
				v = ct.Verification.Status
				if ct.Verification.Status == "pending" && ct.Verification.ExpiresAt != nil {
					v += fmt.Sprintf(" (code expires %s, %d tries left)", ct.Verification.ExpiresAt.Local().Format("15:04:05"), ct.Verification.AttemptsLeft)
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", ct.ID, ct.Type, ct.Address, ct.Status, v)
		}
		return tw.Flush()
	default:
		return usageError{fmt.Sprintf("unknown contact subcommand %q: use add, verify, resend or list", args[0])}
	}
}

func contactArg(s string) (string, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err != nil || n <= 0 {
		return "", usageError{fmt.Sprintf("%q is not a contact id (a number; see klaxon contact list HANDLE)", s)}
	}
	return s, nil
}

const otpUsage = "usage: klaxon otp send --phone NUMBER | --user HANDLE | klaxon otp check ID CODE"

// runOTP is `klaxon otp send|check`: login codes, as another application
// would ask for them.
func runOTP(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		return usageError{otpUsage}
	}
	c, err := newAPIClient(e)
	if err != nil {
		return err
	}
	switch args[0] {
	case "send":
		fs := newFlags("otp send", e)
		phoneNumber := fs.String("phone", "", "the number to text the code to")
		user := fs.String("user", "", "the user whose verified SMS number gets the code")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		body := map[string]string{}
		if *phoneNumber != "" {
			body["phone"] = *phoneNumber
		}
		if *user != "" {
			body["user"] = *user
		}
		var out struct {
			ID string `json:"id"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/otp", body, &out); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, out.ID)
		return nil
	case "check":
		if len(args) != 3 {
			return usageError{"usage: klaxon otp check ID CODE"}
		}
		var out struct {
			Valid bool `json:"valid"`
		}
		if err := c.do(ctx, http.MethodPost, "/api/v1/otp/"+url.PathEscape(args[1])+"/check", map[string]string{"code": args[2]}, &out); err != nil {
			return err
		}
		if !out.Valid {
			return errors.New("that code is not valid")
		}
		fmt.Fprintln(e.stdout, "valid")
		return nil
	default:
		return usageError{fmt.Sprintf("unknown otp subcommand %q: use send or check", strings.TrimSpace(args[0]))}
	}
}
