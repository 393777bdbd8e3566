// Command klaxon is Klaxon's one binary: the service (serve, or worker and
// gateway apart), the embedded development stack (dev), migrations, the
// phone simulator's CLI, and the maintainer CLI that talks to the REST API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(os.Stderr, "klaxon: "+err.Error())
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "klaxon: "+err.Error())
		os.Exit(1)
	}
}

// env is what every command gets from the process: its environment and its
// output streams. Nothing reads os.Getenv or os.Stdout directly.
type env struct {
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer
}

// command is one `klaxon` subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, e env, args []string) error
	// usage, if set, is what `klaxon NAME --help` prints; otherwise the
	// command's flag set answers --help with its flags.
	usage string
}

// usageError is a mistake in the command line; main exits 2 for it.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// commands is the table of every subcommand.
func commands() map[string]command {
	return map[string]command{
		"dev":      {"run everything on this machine with no accounts (Temporal, Postgres, phone simulator, mail sink)", runDev, "usage: klaxon dev  (configured from the environment; see README.md)"},
		"serve":    {"run migrations, then the webhook gateway, REST API and Temporal worker", runServe, "usage: klaxon serve  (configured from the environment; see README.md)"},
		"worker":   {"run only the Temporal worker", runWorker, "usage: klaxon worker  (configured from the environment; see README.md)"},
		"gateway":  {"run only the webhook gateway and REST API", runGateway, "usage: klaxon gateway  (configured from the environment; see README.md)"},
		"migrate":  {"apply the Postgres schema and exit", runMigrate, "usage: klaxon migrate  (configured from the environment; see README.md)"},
		"sim":      {"talk to the phone simulator: text Klaxon as any number, read a phone's inbox", runSim, simUsage},
		"message":  {"send a message through the pipeline, or show one: message send|show", runMessage, messageUsage},
		"user":     {"people Klaxon can reach: user add HANDLE --name NAME [--timezone TZ] | list | show HANDLE", runUser, userUsage},
		"contact":  {"their contact methods: contact add HANDLE sms|voice|email ADDRESS | verify ID CODE | resend ID | list HANDLE", runContact, contactUsage},
		"otp":      {"login codes for other applications: otp send --phone NUMBER | --user HANDLE | otp check ID CODE", runOTP, otpUsage},
		"page":     {"page someone until they acknowledge, or show/list pages: page --target T --summary S | show ID | list", runPage, pageUsage},
		"ack":      {"acknowledge a page: ack ID", runAck, ""},
		"resolve":  {"resolve a page: resolve ID", runResolve, ""},
		"policy":   {"escalation policies: policy add NAME --step T[,T]@DELAY ... [--repeat N] | list | show NAME", runPolicy, policyUsage},
		"rotation": {"on-call rotations: rotation add|list|show|members|set|override|calendar|replan|delete", runRotation, rotationUsage},
		"oncall":   {"who is on call for a rotation now (or --at another time)", runOnCall, ""},
		"channel":  {"SMS channels: channel create [-p PHONE] -a ADMIN[,ADMIN...] | list | show PHONE | delete PHONE", runChannel, channelUsage},
		"number":   {"the channels' phone-number pool: number add PHONE | list | provision -n N [--area-code X]", runNumber, numberUsage},
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stdout, cmds)
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		return usageError{fmt.Sprintf("unknown command %q; run `klaxon help` for the list", args[0])}
	}
	if len(args) == 2 && isHelp(args[1]) {
		if c.usage != "" {
			fmt.Fprintln(stdout, c.usage)
			return nil
		}
		args = []string{args[0], "--help"}
	}
	return c.run(ctx, e, args[1:])
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "--help"
}

func printUsage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("Klaxon reaches people by text, phone and email, durably.\n\nUsage: klaxon COMMAND [flags]\n\nCommands:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-10s %s\n", n, cmds[n].summary)
	}
	b.WriteString("\nConfiguration comes from the environment; see README.md.\n")
	fmt.Fprint(w, b.String())
}
