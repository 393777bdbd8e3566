// Package devstack finds or starts what Klaxon needs on one machine with no
// accounts: a Postgres server and a Temporal dev server with its Web UI. It
// serves `klaxon dev` and the integration tests alike.
package devstack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a reachable Postgres server, and how to stop it if it was
// started here.
type Postgres struct {
	// URL connects to the server's maintenance database as a superuser.
	URL string
	// Started reports that FindPostgres started a private cluster.
	Started bool
	stop    func() error
}

// Stop stops a cluster FindPostgres started; it does nothing otherwise.
func (p *Postgres) Stop() error {
	if p.stop == nil {
		return nil
	}
	return p.stop()
}

// candidateURLs are the local servers tried before starting one: the usual
// TCP port and the Debian socket directory, as user postgres.
func candidateURLs() []string {
	return []string{
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"postgres://postgres@/postgres?host=/var/run/postgresql&sslmode=disable",
	}
}

// FindPostgres returns the server at databaseURL when it is set; else a
// reachable local server; else a private cluster it starts under dataDir
// when Postgres binaries are installed; else one clear error saying how to
// get one.
func FindPostgres(ctx context.Context, databaseURL, dataDir string, logger *slog.Logger) (*Postgres, error) {
	if databaseURL != "" {
		if err := ping(ctx, databaseURL); err != nil {
			return nil, fmt.Errorf("postgres at DATABASE_URL does not answer: %w", err)
		}
		return &Postgres{URL: databaseURL}, nil
	}
	for _, u := range candidateURLs() {
		if ping(ctx, u) == nil {
			return &Postgres{URL: u}, nil
		}
	}
	bin, err := findPostgresBin()
	if err != nil {
		return nil, errors.New("no Postgres found: set DATABASE_URL, run a server on 127.0.0.1:5432 (user postgres), or install PostgreSQL (e.g. apt-get install postgresql) so Klaxon can start its own")
	}
	return startCluster(ctx, bin, filepath.Join(dataDir, "postgres"), logger)
}

// EnsureDatabase creates database name on the server at serverURL if it is
// missing, and returns a URL for it.
func EnsureDatabase(ctx context.Context, serverURL, name string) (string, error) {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", fmt.Errorf("ensure database: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("ensure database: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil && !strings.Contains(err.Error(), "already exists") {
			return "", fmt.Errorf("ensure database: %w", err)
		}
	}
	return WithDatabase(serverURL, name)
}

// DropDatabase drops database name, closing its connections first.
func DropDatabase(ctx context.Context, serverURL, name string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	return nil
}

// WithDatabase returns serverURL pointing at database name instead.
func WithDatabase(serverURL, name string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", fmt.Errorf("database url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

func ping(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return conn.Ping(ctx)
}

// findPostgresBin finds the directory holding initdb and pg_ctl.
func findPostgresBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	for i := len(matches) - 1; i >= 0; i-- {
		dir := filepath.Dir(matches[i])
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", errors.New("pg_ctl and initdb not found")
}

// startCluster initialises (once) and starts a private cluster listening on
// 127.0.0.1 at a free port. Postgres refuses to run as root, so as root it
// runs as the postgres system user.
func startCluster(ctx context.Context, bin, dir string, logger *slog.Logger) (*Postgres, error) {
	asUser, err := clusterUser()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	abs, _ := filepath.Abs(dir)
	if asUser != "" {
		_ = exec.CommandContext(ctx, "chown", "-R", asUser, abs).Run()
		if !reachableBy(ctx, asUser, abs) {
			// A parent is closed to the postgres user (a checkout under
			// /root, a private temp dir): keep the cluster in its home.
			moved, err := homeClusterDir(asUser, abs)
			if err != nil {
				return nil, fmt.Errorf("start postgres: the %s user cannot reach %s, and %w; set KLAXON_DATA_DIR to a directory it can reach, or DATABASE_URL", asUser, abs, err)
			}
			logger.Info("the postgres user cannot reach the data directory; keeping the cluster in its home", "dir", abs, "cluster", moved)
			abs = moved
		}
	}
	run := func(name string, args ...string) error {
		cmdArgs := append([]string{filepath.Join(bin, name)}, args...)
		if asUser != "" {
			cmdArgs = append([]string{"runuser", "-u", asUser, "--"}, cmdArgs...)
		}
		out, err := exec.CommandContext(ctx, cmdArgs[0], cmdArgs[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if _, err := os.Stat(filepath.Join(abs, "PG_VERSION")); err != nil {
		logger.Info("initialising a private postgres cluster", "dir", abs)
		if err := run("initdb", "-D", abs, "-U", "postgres", "--auth=trust", "-E", "UTF8"); err != nil {
			return nil, fmt.Errorf("start postgres: %w", err)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s", port, abs)
	if err := run("pg_ctl", "-D", abs, "-o", opts, "-l", filepath.Join(abs, "server.log"), "-w", "start"); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	u := "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable"
	return &Postgres{URL: u, Started: true, stop: func() error {
		return run("pg_ctl", "-D", abs, "-m", "fast", "-w", "stop")
	}}, nil
}

// reachableBy reports whether user can write in dir.
func reachableBy(ctx context.Context, user, dir string) bool {
	return exec.CommandContext(ctx, "runuser", "-u", user, "--", "test", "-w", dir, "-a", "-x", dir).Run() == nil
}

// homeClusterDir is where a cluster meant for dir lives instead when the
// cluster's user cannot reach dir: under that user's home, named for dir so
// that each checkout keeps its own data from run to run.
func homeClusterDir(name, dir string) (string, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return "", fmt.Errorf("no home: %w", err)
	}
	sum := sha256.Sum256([]byte(dir))
	moved := filepath.Join(u.HomeDir, "klaxon-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(moved, 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", moved, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(moved, uid, gid); err != nil {
		return "", fmt.Errorf("cannot hand %s to %s: %w", moved, name, err)
	}
	return moved, nil
}

func clusterUser() (string, error) {
	if os.Geteuid() != 0 {
		return "", nil
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return "", errors.New("no Postgres found, and Postgres cannot run as root without a postgres system user: set DATABASE_URL")
	}
	return "postgres", nil
}

// freePort asks the kernel for a free TCP port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
