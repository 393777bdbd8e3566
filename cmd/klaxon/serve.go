package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/schema"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/texts"
)

// newLogger builds the process logger: JSON for services, text for dev.
func newLogger(w io.Writer, level string, text bool) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if text {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func loadConfig(e env) (config.Config, error) {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	// The operator's texts are checked now, before anything starts.
	if _, err := texts.Load(cfg.Texts); err != nil {
		return cfg, fmt.Errorf("configuration: %w", err)
	}
	return cfg, nil
}

func runRoles(ctx context.Context, e env, args []string, name string, r roles) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("%s takes no arguments; it is configured from the environment", name)}
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("%s needs DATABASE_URL (or run `klaxon dev`)", name)
	}
	logger := newLogger(e.stderr, cfg.LogLevel, false)
	logger.Info("starting", "command", name, "config", strings.Join(cfg.Lines(), " "))
	a, err := openApp(ctx, cfg, logger, r)
	if err != nil {
		return err
	}
	defer a.close()
	return a.run(ctx)
}

func runServe(ctx context.Context, e env, args []string) error {
	return runRoles(ctx, e, args, "serve", roles{worker: true, gateway: true, migrate: true})
}

func runWorker(ctx context.Context, e env, args []string) error {
	return runRoles(ctx, e, args, "worker", roles{worker: true})
}

func runGateway(ctx context.Context, e env, args []string) error {
	return runRoles(ctx, e, args, "gateway", roles{gateway: true})
}

func runMigrate(ctx context.Context, e env, args []string) error {
	if len(args) > 0 {
		return usageError{"migrate takes no arguments"}
	}
	cfg, err := loadConfig(e)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("migrate needs DATABASE_URL")
	}
	logger := newLogger(e.stderr, cfg.LogLevel, false)
	pool, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	n, err := schema.Migrate(ctx, pool, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "applied %d migration(s)\n", n)
	return nil
}
