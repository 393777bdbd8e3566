package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/devstack"
)

// Matrix accounts every test homeserver has; the password of each is its
// localpart followed by MatrixPasswordSuffix.
const (
	MatrixBot            = "bot"
	MatrixAlice          = "alice"
	MatrixBob            = "bob"
	MatrixPasswordSuffix = "-password-1"
)

// MatrixOptions change a test homeserver.
type MatrixOptions struct {
	// RateLimit turns on Dendrite's rate limiting: a burst of Threshold
	// requests, then one per Cooloff.
	RateLimit bool
	Threshold int
	Cooloff   time.Duration
	// Dir reuses a homeserver's state (a restart); empty is a fresh one.
	Dir string
}

// StartDendrite starts a real Dendrite homeserver on a free loopback port,
// federation off, with the accounts bot, alice and bob, and stops it (by
// PID) when the test ends. The test fails with one sentence when Dendrite
// cannot be had.
func StartDendrite(t testing.TB, opts ...MatrixOptions) *devstack.Dendrite {
	t.Helper()
	var o MatrixOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	bin, err := devstack.FindDendrite(os.Getenv)
	if err != nil {
		t.Fatalf("this test needs a Matrix homeserver: %v", err)
	}
	dir := o.Dir
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "dendrite")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var accounts []devstack.DendriteAccount
	for _, u := range []string{MatrixBot, MatrixAlice, MatrixBob} {
		accounts = append(accounts, devstack.DendriteAccount{Localpart: u, Password: u + MatrixPasswordSuffix})
	}
	d, err := devstack.StartDendrite(ctx, devstack.DendriteOptions{
		BinDir: bin, Dir: dir, Accounts: accounts,
		RateLimit: o.RateLimit, Threshold: o.Threshold, Cooloff: o.Cooloff,
	})
	if err != nil {
		t.Fatalf("this test needs a Matrix homeserver, and Dendrite did not start: %v", err)
	}
	t.Cleanup(func() { _ = d.Stop() })
	return d
}
