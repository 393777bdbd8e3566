package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// AlertmanagerBinary is where Debian's prometheus-alertmanager installs it.
const AlertmanagerBinary = "/usr/bin/prometheus-alertmanager"

// Alertmanager is a real Prometheus Alertmanager on a loopback port, with
// one webhook receiver.
type Alertmanager struct {
	URL string
}

// StartAlertmanager starts Alertmanager with a route that sends every alert
// group (grouped by alertname, sent within a second of a change) to
// webhookURL, resolved groups included, and stops it when the test ends.
// The test fails with one sentence when Alertmanager cannot be had.
func StartAlertmanager(t testing.TB, webhookURL string) *Alertmanager {
	t.Helper()
	bin := AlertmanagerBinary
	if _, err := os.Stat(bin); err != nil {
		if p, lerr := exec.LookPath("alertmanager"); lerr == nil {
			bin = p
		} else {
			t.Fatalf("this test needs Prometheus Alertmanager: run 'make deps' (or apt-get install prometheus-alertmanager)")
		}
	}
	dir := t.TempDir()
	conf := fmt.Sprintf(`route:
  receiver: klaxon
  group_by: ['alertname']
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: klaxon
  webhook_configs:
  - url: %q
    send_resolved: true
    max_alerts: 0
`, webhookURL)
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	port := loopbackPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "alertmanager.yml"),
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=warn",
	)
	logf, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logf.Close()
	})
	am := &Alertmanager{URL: "http://" + addr}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(am.URL + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "alertmanager.log"))
			t.Fatalf("alertmanager did not become ready on %s: %v\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PostAlert is one alert as Alertmanager's API v2 takes it.
type PostAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Post sends alerts to Alertmanager, as Prometheus does; an alert whose
// EndsAt has passed is resolved.
func (am *Alertmanager) Post(ctx context.Context, alerts ...PostAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return fmt.Errorf("post alerts: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, am.URL+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("post alerts: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("post alerts: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post alerts: alertmanager answered %s", resp.Status)
	}
	return nil
}

// loopbackPort returns a loopback TCP port that was free a moment ago.
func loopbackPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
