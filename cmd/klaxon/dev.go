package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klaxonhq/klaxon/client"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/internal/dev/devstack"
	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/redact"
	"github.com/klaxonhq/klaxon/workflows"
)

// Development defaults: numbers the simulator owns for Klaxon, and the
// addresses of the simulator and mail sink.
const (
	devFromNumber        = "+15555550100"
	devSignupNumber      = "+15555550101"
	devDiagnosticsNumber = "+15555550102"
	devMaintainer        = "+15555550199"
	devSimAddr           = "127.0.0.1:8025"
	devHTTPAddr          = "127.0.0.1:8080"
	devSMTPAddr          = "127.0.0.1:2525"
	devTemporalPort      = 7233
	devTemporalUIPort    = 8233
)

// devOptions are `klaxon dev`'s flags.
type devOptions struct {
	// demo seeds something to look at once Klaxon is up.
	demo bool
}

// runDev runs the embedded default: everything Klaxon needs on one machine,
// with no accounts, until Ctrl-C.
func runDev(ctx context.Context, e env, o devOptions) error {
	getenv, err := devDefaults(e.getenv)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(env{getenv: getenv, stdout: e.stdout, stderr: e.stderr})
	if err != nil {
		return err
	}
	logger := newLogger(e.stderr, cfg.LogLevel, true)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}

	// Postgres: DATABASE_URL, a local server, or a private cluster.
	pg, err := devstack.FindPostgres(ctx, e.getenv("DATABASE_URL"), cfg.DataDir, logger)
	if err != nil {
		return err
	}
	defer func() {
		if err := pg.Stop(); err != nil {
			logger.Warn("stop postgres", "error", err)
		}
	}()
	if e.getenv("DATABASE_URL") == "" {
		if cfg.DatabaseURL, err = devstack.EnsureDatabase(ctx, pg.URL, "klaxon"); err != nil {
			return err
		}
	}

	// Temporal: TEMPORAL_ADDRESS, or a dev server with the Web UI.
	temporalUI := ""
	if e.getenv("TEMPORAL_ADDRESS") == "" {
		cli, err := devstack.FindTemporalCLI(e.getenv)
		if err != nil {
			return err
		}
		logf, err := os.OpenFile(filepath.Join(cfg.DataDir, "temporal.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("temporal log: %w", err)
		}
		defer logf.Close()
		port, uiPort := devTemporalPort, devTemporalUIPort
		if !portFree(port) || !portFree(uiPort) {
			port, uiPort = 0, 0
		}
		t, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
			CLIPath: cli, DBFile: filepath.Join(cfg.DataDir, "temporal.db"), UI: true,
			Port: port, UIPort: uiPort, Namespace: cfg.TemporalNamespace,
			SearchAttributes: workflows.SearchAttributes(), Log: logf, Logger: logger,
		})
		if err != nil {
			return err
		}
		defer func() {
			if err := t.Stop(); err != nil {
				logger.Warn("stop temporal", "error", err)
			}
		}()
		cfg.TemporalAddress, temporalUI = t.Address, t.UIURL
	}

	// The mail sink, unless a real SMTP server is configured.
	var sink *mailsink.Sink
	if e.getenv("KLAXON_SMTP_URL") == "" {
		ln, err := listenOrFree(devSMTPAddr)
		if err != nil {
			return fmt.Errorf("mail sink: %w", err)
		}
		sink = mailsink.New(logger.With("component", "mailsink"))
		go func() { _ = sink.Serve(ln) }()
		defer sink.Close()
		cfg.SMTPURL = config.Secret("smtp://" + ln.Addr().String() + "?tls=none")
	}

	// IRC: KLAXON_IRC_SERVER, or a local ngircd when installed.
	ircd, err := startDevIRC(ctx, &cfg, logger)
	if err != nil {
		return err
	}
	if ircd != nil {
		defer func() { _ = ircd.Stop() }()
	}

	// The phone simulator, unless real Twilio credentials are configured.
	simURL := ""
	if !cfg.TwilioConfigured() {
		cfg.TwilioAccountSID = "AC" + strings.Repeat("0", 32)
		cfg.TwilioAuthToken = config.Secret(randomHex(16))
		links := []simulator.Link{{Name: "Klaxon", URL: cfg.PublicURL}}
		if sink != nil {
			links = append(links, simulator.Link{Name: "Mail sink", URL: "/mail/"})
		}
		if temporalUI != "" {
			links = append(links, simulator.Link{Name: "Temporal Web UI", URL: temporalUI})
		}
		if ircd != nil {
			// The page's links are http(s) only: the address is in the text.
			links = append(links, simulator.Link{Name: "Team channel: watch " + devIRCURL(ircd) + " with any IRC client", URL: "#"})
		}
		sim := simulator.New(simulator.Config{
			AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken.Value(),
			InboundURL:            cfg.PublicURL + "/twilio/sms",
			InboundVoiceURL:       cfg.PublicURL + "/twilio/voice",
			InboundVoiceStatusURL: cfg.PublicURL + "/twilio/voice/status",
			// A person follows each call: it rings until they answer on
			// the page (or `klaxon sim answer`), and menus wait for keys.
			DefaultAnswer: simulator.AnswerPerson,
			Links:         links,
			Logger:        logger.With("component", "simulator"),
		})
		defer sim.Close()
		for _, n := range []struct{ phone, label string }{
			{cfg.FromNumber, "paging number: pages, codes and replies"},
			{cfg.SignupNumber, "signup number: text REQUEST for a channel"},
			{cfg.DiagnosticsNumber, "diagnostics number"},
		} {
			if n.phone != "" {
				sim.AddIncomingNumber(n.phone, cfg.PublicURL+"/twilio/sms")
				sim.SetNumberLabel(n.phone, n.label)
			}
		}
		ln, err := listenOrFree(devSimAddr)
		if err != nil {
			return fmt.Errorf("simulator: %w", err)
		}
		mux := http.NewServeMux()
		if sink != nil {
			mux.Handle("/mail/", http.StripPrefix("/mail", sink.Handler()))
		}
		mux.Handle("/", sim.Handler())
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
		simURL = "http://" + ln.Addr().String()
		cfg.TwilioAPIURL = simURL
	}

	// Matrix: KLAXON_MATRIX_HOMESERVER, or a local Dendrite when installed.
	mx, err := startDevMatrix(ctx, e.getenv, &cfg, logger)
	if err != nil {
		return err
	}
	if mx != nil {
		defer func() { _ = mx.Stop() }()
	}

	a, err := openApp(ctx, cfg, logger, roles{worker: true, gateway: true, migrate: true})
	if err != nil {
		return err
	}
	defer a.close()

	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Klaxon is running. Ctrl-C stops everything it started.")
	fmt.Fprintf(tw, "  Gateway + API\t%s\n", cfg.PublicURL)
	fmt.Fprintf(tw, "  Web console\t%s/  (sign in with a handle and the code the simulator gets)\n", cfg.PublicURL)
	fmt.Fprintf(tw, "  API token\t%s\n", cfg.APIToken.Value())
	if temporalUI != "" {
		fmt.Fprintf(tw, "  Temporal Web UI\t%s\n", temporalUI)
	}
	fmt.Fprintf(tw, "  Temporal frontend\t%s\n", cfg.TemporalAddress)
	if simURL != "" {
		fmt.Fprintf(tw, "  Phone simulator\t%s\n", simURL)
	}
	if sink != nil && simURL != "" {
		fmt.Fprintf(tw, "  Mail sink\t%s/mail/  (SMTP %s)\n", simURL, strings.TrimPrefix(strings.TrimSuffix(cfg.SMTPURL.Value(), "?tls=none"), "smtp://"))
	}
	if ircd != nil {
		fmt.Fprintf(tw, "  IRC (ngircd)\t%s  the bot is in #klaxon; connect with any IRC client (a nick that is a handle is that person)\n", devIRCURL(ircd))
	}
	if mx != nil {
		fmt.Fprintf(tw, "  Matrix (Dendrite)\t%s  room %s; sign in as %s or %s (password: the name, then -password)\n",
			mx.hs.URL, mx.room, mx.hs.UserID(devMatrixAlice), mx.hs.UserID(devMatrixBob))
	}
	fmt.Fprintf(tw, "  Postgres\t%s\n", redact.URL(cfg.DatabaseURL))
	fmt.Fprintf(tw, "  Paging number\t%s\n", cfg.FromNumber)
	if cfg.SignupNumber != "" {
		fmt.Fprintf(tw, "  Signup number\t%s\n", cfg.SignupNumber)
	}
	fmt.Fprintf(tw, "\nTry:\n  export KLAXON_API_URL=%s KLAXON_API_TOKEN=%s\n", cfg.PublicURL, cfg.APIToken.Value())
	fmt.Fprintf(tw, "  %s message send --channel sms --to +15555550123 --body 'hello'\n", selfCommand())
	if !o.demo {
		fmt.Fprintf(tw, "  %s dev --demo      (people, a rotation and a page escalating, to watch)\n", selfCommand())
	}
	_ = tw.Flush()

	if o.demo {
		go func() {
			rctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			cl, err := client.New(cfg.PublicURL, cfg.APIToken.Value())
			if err == nil {
				err = waitReady(rctx, cfg.PublicURL)
			}
			if err == nil {
				err = seedDemo(rctx, a.store, cl, e.stdout)
			}
			if err != nil && ctx.Err() == nil {
				logger.Error("seed the demo", "error", err)
			}
		}()
	}

	err = a.run(ctx)
	fmt.Fprintln(e.stdout, "Klaxon stopped.")
	return err
}

// devDefaults fills in, for `klaxon dev` only, what production must be told:
// an API token (kept under the data directory, so an exported one keeps
// working across restarts), the numbers the simulator owns, a maintainer,
// and a gateway on loopback only.
func devDefaults(getenv func(string) string) (func(string) string, error) {
	dataDir := getenv("KLAXON_DATA_DIR")
	if dataDir == "" {
		dataDir = config.Defaults().DataDir
	}
	token := getenv("KLAXON_API_TOKEN")
	if token == "" {
		var err error
		if token, err = devToken(dataDir); err != nil {
			return nil, err
		}
	}
	pepper := getenv("KLAXON_CODE_PEPPER")
	if pepper == "" {
		var err error
		if pepper, err = devSecret(dataDir, devPepperFile, "", 24, "the dev code pepper"); err != nil {
			return nil, err
		}
	}
	defaults := map[string]string{
		"KLAXON_CODE_PEPPER":        pepper,
		"KLAXON_API_TOKEN":          token,
		"KLAXON_HTTP_ADDR":          devHTTPAddr,
		"KLAXON_FROM_NUMBER":        devFromNumber,
		"KLAXON_SIGNUP_NUMBER":      devSignupNumber,
		"KLAXON_DIAGNOSTICS_NUMBER": devDiagnosticsNumber,
		"KLAXON_MAINTAINERS":        devMaintainer,
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return defaults[k]
	}, nil
}

// devTokenFile is where `klaxon dev` keeps its API token, in the data
// directory.
const devTokenFile = "api-token"

// devPepperFile is where `klaxon dev` keeps its code pepper, so that codes
// issued before a restart still verify after it.
const devPepperFile = "code-pepper"

// devToken returns the dev API token kept in dataDir, making one the first
// time.
func devToken(dataDir string) (string, error) {
	return devSecret(dataDir, devTokenFile, "dev-", 12, "the dev API token")
}

// devSecret returns the secret kept in dataDir/file, making one (prefix and
// n random bytes in hex) the first time.
func devSecret(dataDir, file, prefix string, n int, what string) (string, error) {
	path := filepath.Join(dataDir, file)
	if b, err := os.ReadFile(path); err == nil {
		if t := strings.TrimSpace(string(b)); t != "" {
			return t, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("data dir: %w", err)
	}
	t := prefix + randomHex(n)
	if err := os.WriteFile(path, []byte(t+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep %s: %w", what, err)
	}
	return t, nil
}

func listenOrFree(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// portOrAny is port when it is free, else 0: any free port.
func portOrAny(port int) int {
	if portFree(port) {
		return port
	}
	return 0
}

func portFree(port int) bool {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = ln.Close()
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// selfCommand is how to run this binary again from the shell it was
// started in: its path as given ("bin/klaxon"), or "klaxon" when it came
// from PATH.
func selfCommand() string {
	if len(os.Args) == 0 || !strings.Contains(os.Args[0], string(filepath.Separator)) {
		return "klaxon"
	}
	return os.Args[0]
}
