package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	tworker "go.temporal.io/sdk/worker"
	"golang.org/x/sync/errgroup"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/activities"
	"github.com/klaxonhq/klaxon/bridge"
	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/codec"
	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/console"
	"github.com/klaxonhq/klaxon/directory"
	"github.com/klaxonhq/klaxon/gateway"
	"github.com/klaxonhq/klaxon/matrix"
	"github.com/klaxonhq/klaxon/metrics"
	"github.com/klaxonhq/klaxon/providers/email"
	"github.com/klaxonhq/klaxon/providers/twilio"
	"github.com/klaxonhq/klaxon/ratelimit"
	"github.com/klaxonhq/klaxon/schema"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/texts"
	"github.com/klaxonhq/klaxon/worker"
	"github.com/klaxonhq/klaxon/workflows"
)

// roles says which halves of Klaxon a process runs.
type roles struct {
	worker  bool
	gateway bool
	migrate bool
}

// app is Klaxon assembled: every dependency built once, in order, by
// openApp, and closed in reverse by close.
type app struct {
	cfg      config.Config
	logger   *slog.Logger
	pool     *pgxpool.Pool
	store    *store.Store
	temporal client.Client
	metrics  *metrics.Metrics
	twilio   *twilio.Client
	// codec, if KLAXON_PAYLOAD_KEYS is set, encrypts every payload.
	codec   *codec.Codec
	worker  tworker.Worker
	gateway *gateway.Gateway
	// texts are the operator's overrides of user-facing texts.
	texts *texts.Texts
	// listener, if set, is used instead of listening on cfg.HTTPAddr.
	listener net.Listener
	// matrix, if KLAXON_MATRIX_HOMESERVER is set, is the bot's Matrix
	// connection; bridge, if IRC or Matrix is configured, holds it and the
	// IRC connection irc.
	matrix  *matrix.Network
	bridge  *bridge.Bridge
	irc     *bridge.IRC
	closers []func()
}

// openApp builds Klaxon for the given roles from a validated configuration.
func openApp(ctx context.Context, cfg config.Config, logger *slog.Logger, r roles) (_ *app, err error) {
	a := &app{cfg: cfg, logger: logger, metrics: metrics.New()}
	defer func() {
		if err != nil {
			a.close()
		}
	}()

	if cfg.DatabaseURL == "" {
		return nil, errors.New("DATABASE_URL is not set")
	}
	if a.pool, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.pool.Close)
	a.store = store.New(a.pool)
	if a.texts, err = texts.Load(cfg.Texts); err != nil {
		return nil, err
	}
	if r.migrate {
		if _, err := schema.Migrate(ctx, a.pool, logger); err != nil {
			return nil, err
		}
	}

	copts := client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    log.NewStructuredLogger(logger.With("component", "temporal")),
	}
	if cfg.PayloadKeys != "" {
		keys, err := codec.ParseKeys(cfg.PayloadKeys.Value())
		if err != nil {
			return nil, fmt.Errorf("KLAXON_PAYLOAD_KEYS: %w", err)
		}
		if a.codec, err = codec.New(keys); err != nil {
			return nil, err
		}
		copts.DataConverter = codec.DataConverter(a.codec)
	}
	if r.worker {
		// The worker cannot do anything without Temporal: wait for it.
		a.temporal, err = dialTemporal(ctx, copts, logger)
	} else {
		// The gateway keeps taking webhooks while Temporal is down.
		a.temporal, err = client.NewLazyClient(copts)
		if err == nil {
			// Have the client load the server's capabilities now, alone:
			// the SDK reads them unguarded while concurrent first calls
			// write them.
			hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if _, herr := a.temporal.CheckHealth(hctx, &client.CheckHealthRequest{}); herr != nil {
				logger.Warn("Temporal is not reachable yet; webhooks are kept in Postgres until it is", "error", herr)
			}
			cancel()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("temporal: %w", err)
	}
	a.closers = append(a.closers, a.temporal.Close)
	if r.migrate && r.worker {
		if err := worker.EnsureSearchAttributes(ctx, a.temporal, cfg.TemporalNamespace); err != nil {
			return nil, err
		}
	}

	if cfg.TwilioConfigured() {
		a.twilio, err = twilio.New(twilio.Config{
			AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken.Value(),
			APIURL: cfg.TwilioAPIURL, PublicURL: cfg.PublicURL,
		})
		if err != nil {
			return nil, err
		}
	}

	if r.worker {
		providers := map[klaxon.Medium]activities.Provider{}
		if a.twilio != nil {
			providers[klaxon.SMS] = a.twilio.SMS()
			providers[klaxon.Voice] = a.twilio.Voice()
		} else {
			logger.Warn("no Twilio credentials: SMS and voice are disabled")
		}
		if cfg.SMTPURL != "" {
			sender, err := email.New(email.Config{URL: cfg.SMTPURL.Value(), From: cfg.EmailFrom})
			if err != nil {
				return nil, err
			}
			providers[klaxon.Email] = sender
		} else {
			logger.Warn("no KLAXON_SMTP_URL: email is disabled")
		}
		if err := a.openMatrix(); err != nil {
			return nil, err
		}
		// Each connected chat network is the provider of its medium: a
		// private line its bridge says.
		for _, m := range klaxon.Media() {
			if network := m.ChatNetwork(); network != "" && a.chatConfigured(network) {
				providers[m] = &activities.ChatProvider{Store: a.store, Network: network, Enqueue: a.starter().ChatLine}
			}
		}
		deps := workflows.Deps{
			Delivery: &activities.Delivery{
				Store:        a.store,
				Providers:    providers,
				From:         map[klaxon.Medium]string{klaxon.SMS: cfg.FromNumber, klaxon.Voice: cfg.FromNumber, klaxon.Email: cfg.EmailFrom},
				Limiter:      ratelimit.New(cfg.SendRate),
				PerRecipient: ratelimit.NewBurst(cfg.RecipientRate, ratelimit.RecipientBurst),
				SlotInterval: slotInterval(cfg.SendRate),
				AckLinks:     console.AckLinks{Store: a.store, PublicURL: cfg.PublicURL},
				Metrics:      a.metrics,
				Texts:        a.texts,
				Logger:       logger,
			},
			Inbound: &activities.Inbound{
				Store: a.store, PagingNumber: cfg.FromNumber, Brand: cfg.Brand, Logger: logger,
				OwnNumbers: []string{cfg.FromNumber, cfg.SignupNumber, cfg.DiagnosticsNumber},
			},
			Codes:         &activities.Codes{Store: a.store, Peppers: cfg.Peppers(), Brand: cfg.Brand, Logger: logger},
			Paging:        a.pagingActivities(logger),
			Subscriptions: &activities.Subscriptions{Store: a.store, Logger: logger},
			Rotations:     &activities.Rotations{Store: a.store, Logger: logger},
			Channels:      a.channelActivities(ctx),
			Directory:     a.directoryActivities(),
			Retention:     &activities.Retention{Store: a.store, Window: cfg.Retention, Logger: logger},
			Chat:          a.chatActivities(),
		}
		a.worker = worker.New(a.temporal, cfg.TaskQueue, cfg.ShutdownTimeout, deps)
		if err := a.directorySchedule(ctx); err != nil {
			return nil, err
		}
		if err := (workflows.Starter{Client: a.temporal, TaskQueue: cfg.TaskQueue}).RetentionSchedule(ctx); err != nil {
			return nil, err
		}
		if err := a.openBridge(); err != nil {
			return nil, err
		}
	}

	if r.gateway {
		a.gateway, err = gateway.New(gateway.Deps{
			Config: cfg, Store: a.store, Temporal: a.temporal, Metrics: a.metrics, Logger: logger,
			Codec: a.codec, Texts: a.texts,
			Inbound: gateway.NewDispatcher(gateway.DispatcherOptions{
				Store: a.store, Temporal: a.temporal, TaskQueue: cfg.TaskQueue, Metrics: a.metrics, Logger: logger,
			}),
		})
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

// pagingActivities builds the paging feature's activities: calls are hung
// up through Twilio (or the simulator) when one is configured.
func (a *app) pagingActivities(logger *slog.Logger) *activities.Paging {
	p := &activities.Paging{Store: a.store, Temporal: a.temporal, Logger: logger}
	if a.twilio != nil {
		p.Calls = a.twilio
	}
	return p
}

// channelActivities builds the SMS channels' activities and, at start,
// makes sure the signup channel (KLAXON_SIGNUP_NUMBER) and the diagnostics
// channel (KLAXON_DIAGNOSTICS_NUMBER) exist with KLAXON_MAINTAINERS as their
// admins. A failure there is logged, not fatal: the rest of Klaxon works
// without them, and the next start tries again.
func (a *app) channelActivities(ctx context.Context) *activities.Channels {
	c := &activities.Channels{
		Store: a.store,
		Settings: activities.ChannelSettings{
			Brand:             a.cfg.Brand,
			SignupNumber:      a.cfg.SignupNumber,
			DiagnosticsNumber: a.cfg.DiagnosticsNumber,
			PagingNumber:      a.cfg.FromNumber,
			ReserveSize:       a.cfg.ReserveSize,
			Region:            a.cfg.DefaultRegion,
			Links: channel.Links{
				Privacy: a.cfg.PrivacyURL, HowTo: a.cfg.HowToURL, Social: a.cfg.SocialURL, Donate: a.cfg.DonateURL,
			},
		},
		Logger: a.logger,
	}
	if a.twilio != nil {
		c.Numbers = a.twilio
	}
	if err := a.store.EnsureSystemChannels(ctx, a.cfg.SignupNumber, a.cfg.DiagnosticsNumber, a.cfg.Maintainers); err != nil {
		a.logger.Error("system channels not set up", "error", err)
	}
	return c
}

// directoryActivities builds the directory's synchronisation; without
// KLAXON_LDAP_URL it has none, and says so when asked to run.
func (a *app) directoryActivities() *activities.Directory {
	if a.cfg.LDAPURL == "" {
		return &activities.Directory{}
	}
	return &activities.Directory{Syncer: &directory.Syncer{Config: a.cfg.Directory(), Store: a.store, Logger: a.logger}}
}

// directorySchedule makes the Temporal schedule that synchronises with the
// directory every KLAXON_LDAP_SYNC_INTERVAL exist when KLAXON_LDAP_URL is
// set, and removes it when it is not.
func (a *app) directorySchedule(ctx context.Context) error {
	if a.cfg.LDAPURL == "" {
		if err := workflows.DeleteDirectorySchedule(ctx, a.temporal, a.cfg.TaskQueue); err != nil {
			a.logger.Warn("directory schedule not removed", "error", err)
		}
		return nil
	}
	return workflows.EnsureDirectorySchedule(ctx, a.temporal, a.cfg.TaskQueue, a.cfg.LDAPSyncInterval)
}

// dialTemporal connects to Temporal, retrying for up to a minute so that a
// worker started alongside its server does not give up at once.
func dialTemporal(ctx context.Context, o client.Options, logger *slog.Logger) (client.Client, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := client.DialContext(ctx, o)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, err
		}
		logger.Warn("temporal not reachable yet; retrying", "address", o.HostPort, "error", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// slotInterval is the spacing of a sending number's messages at rate per
// second; zero (no limit) for a rate of zero.
func slotInterval(rate float64) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(float64(time.Second) / rate)
}

// component is one long-running part of a process: it runs until ctx ends
// or it fails, and returns why it stopped.
type component struct {
	name string
	run  func(ctx context.Context) error
}

// components lists what this process runs, for the roles openApp built.
func (a *app) components() []component {
	var cs []component
	if a.worker != nil {
		cs = append(cs, component{"worker", workerRun(a.worker)})
	}
	if a.bridge != nil {
		cs = append(cs, component{"chat bridge", a.bridge.Run})
	}
	if a.gateway != nil {
		if a.gateway.Inbound != nil {
			// Hand durable inbound events to Temporal while the gateway runs.
			cs = append(cs, component{"inbound dispatcher", a.gateway.Inbound.Run})
		}
		cs = append(cs, component{"http server", a.serveHTTP})
	}
	return cs
}

// run runs every component under one supervisor until ctx ends or one of
// them stops: a component that stops on its own (a worker that met a fatal
// error, an HTTP listener that broke) stops them all and the process, so
// that nothing keeps answering /healthz for a half-dead Klaxon.
func (a *app) run(ctx context.Context) error {
	return supervise(ctx, a.logger, a.components())
}

// supervise runs cs until ctx ends or one of them stops, then stops the
// others and waits for them. It returns the first component's error;
// nil only when ctx ended and every component stopped cleanly.
func supervise(ctx context.Context, logger *slog.Logger, cs []component) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range cs {
		g.Go(func() error {
			err := c.run(gctx)
			switch {
			case err != nil:
				logger.Error("component stopped; stopping klaxon", "component", c.name, "error", err)
				return fmt.Errorf("%s: %w", c.name, err)
			case gctx.Err() == nil:
				logger.Error("component stopped by itself; stopping klaxon", "component", c.name)
				return fmt.Errorf("%s stopped unexpectedly", c.name)
			}
			return nil
		})
	}
	return g.Wait()
}

// workerRun adapts a Temporal worker to a component: it polls until ctx
// ends, and returns the fatal error that made it stop on its own (its
// namespace deleted, a client version refused).
func workerRun(w tworker.Worker) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		stop := make(chan any)
		unhook := context.AfterFunc(ctx, func() { close(stop) })
		defer unhook()
		if err := w.Run(stop); err != nil {
			return fmt.Errorf("temporal worker: %w", err)
		}
		return nil
	}
}

// serveHTTP serves the gateway until ctx ends, then shuts the server down
// gracefully within the shutdown timeout.
func (a *app) serveHTTP(ctx context.Context) error {
	srv := a.gateway.Server(a.cfg.HTTPAddr)
	ln := a.listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", a.cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", a.cfg.HTTPAddr, err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		a.logger.Warn("http shutdown", "error", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// close releases everything openApp built, last first.
func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}
