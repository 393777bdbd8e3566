// Command klaxon is Klaxon's one binary: the service (serve, or worker and
// gateway apart), the embedded development stack (dev), migrations, the
// phone simulator's CLI, and the maintainer CLI that talks to the REST API.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "klaxon: "+err.Error())
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
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

// usageError is a mistake in the command line; main exits 2 for it.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

// exitRequest is how the command-line parser's exit (after printing help)
// unwinds to run instead of ending the process.
type exitRequest struct{ code int }

// run parses args and runs the command they name. Help (`--help`, `-h`, or
// `help` in a command's place) prints to stdout and returns nil.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	var grammar cli
	parser, err := newParser(&grammar, stdout, stderr)
	if err != nil {
		return err
	}
	args = helpWords(parser.Model.Node, args)
	if len(args) == 0 {
		args = []string{"--help"}
	}
	kctx, helped, err := parse(parser, args)
	if helped {
		return nil
	}
	if err != nil {
		var pe *kong.ParseError
		if errors.As(err, &pe) && pe.Context != nil && pe.Context.Selected() != nil {
			return usageError{fmt.Sprintf("%v; see `%s --help`", err, commandPath(pe.Context.Selected()))}
		}
		return usageError{fmt.Sprintf("%v; see `klaxon --help`", err)}
	}
	return kctx.Run(&cmdEnv{ctx: ctx, env: e})
}

// newParser builds the command-line parser over grammar, writing help to
// stdout.
func newParser(grammar *cli, stdout, stderr io.Writer) (*kong.Kong, error) {
	p, err := kong.New(grammar,
		kong.Name("klaxon"),
		kong.Description("Klaxon reaches people by text, phone and email, durably. Configuration comes from the environment; see README.md."),
		kong.Writers(stdout, stderr),
		kong.Vars{"rotation_time": rotationTimeHelp, "sim_to": devFromNumber},
		kong.Exit(func(code int) { panic(exitRequest{code}) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
	)
	if err != nil {
		return nil, fmt.Errorf("build the command line: %w", err)
	}
	return p, nil
}

// parse parses args, reporting whether the parser printed help (and would
// have exited) instead.
func parse(p *kong.Kong, args []string) (kctx *kong.Context, helped bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ex, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			kctx, helped, err = nil, ex.code == 0, nil
			if ex.code != 0 {
				err = usageError{"invalid command line"}
			}
		}
	}()
	kctx, err = p.Parse(args)
	return kctx, false, err
}

// helpWords turns `help` in a command's place into --help: `klaxon help`,
// `klaxon help user` and `klaxon user help` all ask for help. A `help`
// anywhere else (a message body, say) is left alone.
func helpWords(root *kong.Node, args []string) []string {
	out := append([]string(nil), args...)
	if len(out) > 0 && out[0] == "help" {
		return append(out[1:], "--help")
	}
	node := root
	for i, a := range out {
		if a == "help" {
			out[i] = "--help"
			return out
		}
		next := childNamed(node, a)
		if next == nil {
			return out
		}
		node = next
	}
	return out
}

func childNamed(n *kong.Node, name string) *kong.Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
		for _, a := range c.Aliases {
			if a == name {
				return c
			}
		}
	}
	return nil
}

// commandPath is how a command is typed: "klaxon rotation add".
func commandPath(n *kong.Node) string {
	var parts []string
	for ; n != nil; n = n.Parent {
		parts = append([]string{n.Name}, parts...)
	}
	return strings.Join(parts, " ")
}
