package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	tworker "go.temporal.io/sdk/worker"

	"github.com/klaxonhq/klaxon/config"
	"github.com/klaxonhq/klaxon/internal/testenv"
)

// TestServe_StopsWhenTheWorkerDies gives a running `klaxon serve` a
// worker that meets a fatal error (as the SDK's Run returns one when the
// server refuses it for good): the whole process stops with it instead of
// answering /healthz 200 for a worker that is gone.
func TestServe_StopsWhenTheWorkerDies(t *testing.T) {
	db := testenv.Postgres(t)
	addr := testenv.Temporal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	env := map[string]string{
		"DATABASE_URL": db.URL, "TEMPORAL_ADDRESS": addr, "KLAXON_TASK_QUEUE": testenv.TaskQueue(t),
		"KLAXON_PUBLIC_URL": base, "KLAXON_API_TOKEN": "t", "KLAXON_LOG_LEVEL": "warn",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, testenv.Logger(t), roles{worker: true, gateway: true, migrate: true})
	if err != nil {
		t.Fatalf("open klaxon: %v", err)
	}
	defer a.close()
	a.listener = ln
	w := &dyingWorker{Worker: a.worker, die: make(chan error, 1)}
	a.worker = w
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()

	healthy := func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for !healthy() {
		select {
		case err := <-done:
			t.Fatalf("klaxon stopped before it was healthy: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}

	w.die <- errors.New("namespace is gone")
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "worker") || !strings.Contains(err.Error(), "namespace is gone") {
			t.Fatalf("klaxon stopped with %v, want the worker's fatal error", err)
		}
	case <-ctx.Done():
		t.Fatal("klaxon kept running with a dead worker")
	}
	if healthy() {
		t.Fatal("/healthz still answers 200 after the worker died")
	}
}

// dyingWorker is a real worker whose Run returns a fatal error on demand.
type dyingWorker struct {
	tworker.Worker
	die chan error
}

func (w *dyingWorker) Run(stop <-chan any) error {
	if err := w.Worker.Start(); err != nil {
		return err
	}
	defer w.Worker.Stop()
	select {
	case <-stop:
		return nil
	case err := <-w.die:
		return err
	}
}

// TestSupervise_OneStopsAll runs three components; when one fails the
// others are stopped and its error is returned, and a clean stop of ctx
// returns nil.
func TestSupervise_OneStopsAll(t *testing.T) {
	logger := testenv.Logger(t)
	boom := errors.New("boom")
	waitCtx := func(ctx context.Context) error { <-ctx.Done(); return nil }
	cases := []struct {
		name    string
		failing func(ctx context.Context) error
		want    string
	}{
		{"an error stops all", func(context.Context) error { return boom }, "failing: boom"},
		{"an early clean return stops all", func(context.Context) error { return nil }, "failing stopped unexpectedly"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := supervise(context.Background(), logger, []component{
				{"a", waitCtx}, {"failing", tc.failing}, {"b", waitCtx},
			})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("supervise = %v, want %q", err, tc.want)
			}
		})
	}
	t.Run("ctx ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := supervise(ctx, logger, []component{{"a", waitCtx}, {"b", waitCtx}}); err != nil {
			t.Fatalf("supervise = %v, want nil", err)
		}
	})
}
