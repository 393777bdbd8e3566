package worker_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/klaxonhq/klaxon/internal/dev/devstack"
	"github.com/klaxonhq/klaxon/worker"
	"github.com/klaxonhq/klaxon/workflows"
)

// TestEnsureSearchAttributes_RegistersWhatAServerLacks runs against a dev
// server started without Klaxon's attributes, as `klaxon serve` meets a
// fresh cluster.
func TestEnsureSearchAttributes_RegistersWhatAServerLacks(t *testing.T) {
	cli, err := devstack.FindTemporalCLI(os.Getenv)
	if err != nil {
		t.Fatalf("integration test needs the temporal CLI: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{CLIPath: cli})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c, err := client.Dial(client.Options{HostPort: srv.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	for range 2 { // the second call finds everything and changes nothing
		if err := worker.EnsureSearchAttributes(ctx, c, "default"); err != nil {
			t.Fatal(err)
		}
	}
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range workflows.SearchAttributes() {
		if _, ok := have.GetCustomAttributes()[k.GetName()]; !ok {
			t.Errorf("%s not registered", k.GetName())
		}
	}
}
