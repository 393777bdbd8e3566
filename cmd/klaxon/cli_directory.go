package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/klaxonhq/klaxon/api"
)

// directoryCmd is `klaxon directory sync`.
type directoryCmd struct {
	Sync directorySyncCmd `cmd:"" help:"Synchronise the users with the LDAP directory now, and print what changed."`
}

type directorySyncCmd struct {
	jsonFlag
}

func (c *directorySyncCmd) Run(e *cmdEnv) error {
	cl, err := e.client()
	if err != nil {
		return err
	}
	out, err := cl.SyncDirectory(e.ctx)
	if err != nil {
		return err
	}
	if c.JSON {
		return printJSON(e.stdout, out)
	}
	return printDirectorySync(e, out)
}

// printDirectorySync says what a synchronisation changed, for people.
func printDirectorySync(e *cmdEnv, s api.DirectorySync) error {
	n := s.Counts
	entries := fmt.Sprintf("%d directory entries", s.Entries)
	if s.Entries == 1 {
		entries = "1 directory entry"
	}
	fmt.Fprintf(e.stdout, "%s read: %d added, %d updated, %d deactivated, %d reactivated, %d unchanged, %d skipped.\n",
		entries, n.Added, n.Updated, n.Deactivated, n.Reactivated, n.Unchanged, n.Skipped)
	list := func(title string, cs []api.DirectoryChange, total int) {
		if total == 0 {
			return
		}
		parts := make([]string, 0, len(cs))
		for _, c := range cs {
			if len(c.Fields) > 0 {
				parts = append(parts, fmt.Sprintf("%s (%s)", c.Handle, strings.Join(c.Fields, ", ")))
			} else {
				parts = append(parts, c.Handle)
			}
		}
		more := ""
		if total > len(cs) {
			more = fmt.Sprintf(" and %d more", total-len(cs))
		}
		fmt.Fprintf(e.stdout, "%s: %s%s\n", title, strings.Join(parts, ", "), more)
	}
	list("Added", s.Added, n.Added)
	list("Updated", s.Updated, n.Updated)
	list("Deactivated (paged no more)", s.Deactivated, n.Deactivated)
	list("Reactivated", s.Reactivated, n.Reactivated)
	if n.Added+n.Updated+n.Deactivated+n.Reactivated == 0 {
		fmt.Fprintln(e.stdout, "Nothing changed.")
	}
	if n.Skipped == 0 {
		return nil
	}
	fmt.Fprintln(e.stdout, "Skipped:")
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, sk := range s.Skipped {
		what := "whole entry"
		if sk.Field != "" {
			what = sk.Field
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", sk.DN, what, sk.Reason)
	}
	if n.Skipped > len(s.Skipped) {
		fmt.Fprintf(tw, "  … and %d more\t\t\n", n.Skipped-len(s.Skipped))
	}
	return tw.Flush()
}
