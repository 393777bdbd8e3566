// Package metrics defines Klaxon's Prometheus metrics on a registry the
// composition root owns (never the global one).
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds every collector Klaxon updates.
type Metrics struct {
	reg *prometheus.Registry

	// Deliveries counts provider hand-offs by medium and outcome
	// (accepted, transient, permanent, suppressed, canceled).
	Deliveries *prometheus.CounterVec
	// ProviderSeconds is how long provider API calls take, by medium.
	ProviderSeconds *prometheus.HistogramVec
	// RateLimitWaits counts sends that had to queue for their number's slot.
	RateLimitWaits prometheus.Counter
	// HTTPRequests counts gateway requests by route and status code.
	HTTPRequests *prometheus.CounterVec
	// HTTPSeconds is gateway latency by route.
	HTTPSeconds *prometheus.HistogramVec
	// Webhooks counts Twilio webhooks by route and result (stored,
	// duplicate, bad_signature, bad_request).
	Webhooks *prometheus.CounterVec
}

// New registers Klaxon's metrics, and the Go and process collectors, on a
// fresh registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_deliveries_total", Help: "Messages handed to providers, by medium and outcome.",
		}, []string{"medium", "outcome"}),
		ProviderSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "klaxon_provider_request_seconds", Help: "Provider API call latency.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"medium"}),
		RateLimitWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "klaxon_rate_limit_waits_total", Help: "Sends that queued for their sending number's rate limit.",
		}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_http_requests_total", Help: "Gateway requests by route and status.",
		}, []string{"route", "code"}),
		HTTPSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "klaxon_http_request_seconds", Help: "Gateway request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"route"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klaxon_webhooks_total", Help: "Twilio webhooks by route and result.",
		}, []string{"route", "result"}),
	}
	reg.MustRegister(m.Deliveries, m.ProviderSeconds, m.RateLimitWaits, m.HTTPRequests, m.HTTPSeconds, m.Webhooks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for components that add their own collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
