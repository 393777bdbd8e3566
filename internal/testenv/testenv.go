// Package testenv gives integration tests the real things: a fresh, migrated
// Postgres database per test, and a Temporal dev server shared by one test
// binary. When either cannot be had the test fails, with the reason; it
// never skips itself into a green run.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon/internal/dev/devstack"
	"github.com/klaxonhq/klaxon/schema"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// shared is the one Temporal dev server of a test binary. It is test-only
// process state, started on first use and stopped by Main.
var shared struct {
	once sync.Once
	srv  *devstack.Temporal
	err  error
}

// Main runs a package's tests and stops the shared dev server afterwards.
// Packages that call Temporal use it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		_ = shared.srv.Stop()
	}
	os.Exit(code)
}

// Logger returns a logger that writes to the test log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p))
	return len(p), nil
}

// DB is a fresh database for one test.
type DB struct {
	URL   string
	Pool  *pgxpool.Pool
	Store *store.Store
}

// Postgres creates a fresh database with Klaxon's schema on the server at
// DATABASE_URL (or a local one), and drops it when the test ends.
func Postgres(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pg, err := devstack.FindPostgres(ctx, os.Getenv("DATABASE_URL"), t.TempDir(), Logger(t))
	if err != nil {
		t.Fatalf("integration test needs Postgres: %v", err)
	}
	name := "klaxon_test_" + randomHex(6)
	u, err := devstack.EnsureDatabase(ctx, pg.URL, name)
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	pool, err := store.Open(ctx, u)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := devstack.DropDatabase(ctx, pg.URL, name); err != nil {
			t.Logf("drop test database: %v", err)
		}
		_ = pg.Stop()
	})
	if _, err := schema.Migrate(ctx, pool, Logger(t)); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return &DB{URL: u, Pool: pool, Store: store.New(pool)}
}

// Temporal returns the address of the test binary's shared Temporal dev
// server, starting it on first use.
func Temporal(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		cli, err := devstack.FindTemporalCLI(os.Getenv)
		if err != nil {
			shared.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.srv, shared.err = devstack.StartTemporal(ctx, devstack.TemporalOptions{
			CLIPath: cli, SearchAttributes: workflows.SearchAttributes(),
		})
	})
	if shared.err != nil {
		t.Fatalf("integration test needs a Temporal dev server: %v", shared.err)
	}
	return shared.srv.Address
}

// TemporalClient returns a client of the shared dev server, closed when the
// test ends.
func TemporalClient(t testing.TB) client.Client {
	t.Helper()
	addr := Temporal(t)
	c, err := client.Dial(client.Options{HostPort: addr, Logger: quietSDK{}})
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TaskQueue returns a task queue unique to one test, so tests sharing a dev
// server never pick up each other's work.
func TaskQueue(t testing.TB) string {
	return fmt.Sprintf("test-%s-%s", sanitize(t.Name()), randomHex(4))
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	if len(b) > 60 {
		b = b[:60]
	}
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// quietSDK drops the SDK's own logging in tests.
type quietSDK struct{}

func (quietSDK) Debug(string, ...any) {}
func (quietSDK) Info(string, ...any)  {}
func (quietSDK) Warn(string, ...any)  {}
func (quietSDK) Error(string, ...any) {}
