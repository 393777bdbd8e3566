package devstack

import (
	"context"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"testing"
	"time"
)

// The private cluster `klaxon dev` starts when no server answers: it
// initialises once, answers, stops, and starts again on the same data —
// also when, running as root, the data directory sits behind a parent the
// postgres user cannot enter (a checkout under /root).
func TestStartCluster_InitialisesStartsAndRestarts(t *testing.T) {
	bin, err := findPostgresBin()
	if err != nil {
		t.Fatalf("this test needs PostgreSQL's initdb and pg_ctl installed: %v", err)
	}
	for name, perm := range map[string]os.FileMode{"open parent": 0o755, "closed parent": 0o700} {
		t.Run(name, func(t *testing.T) {
			parent, err := os.MkdirTemp("", "klaxon-pg-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(parent) })
			if err := os.Chmod(parent, perm); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(parent, "data", "postgres")
			if as, _ := clusterUser(); as != "" {
				if u, err := user.Lookup(as); err == nil {
					moved, _ := homeClusterDir(as, dir)
					t.Cleanup(func() {
						if moved != "" && filepath.Dir(moved) == u.HomeDir {
							_ = os.RemoveAll(moved)
						}
					})
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			logger := slog.New(slog.DiscardHandler)
			for run := 1; run <= 2; run++ {
				pg, err := startCluster(ctx, bin, dir, logger)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if err := ping(ctx, pg.URL); err != nil {
					_ = pg.Stop()
					t.Fatalf("run %d: the cluster does not answer: %v", run, err)
				}
				if err := pg.Stop(); err != nil {
					t.Fatalf("run %d: stop: %v", run, err)
				}
			}
		})
	}
}
