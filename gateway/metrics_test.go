package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// HTTP metrics are labelled by the route template that served the
// request (a path parameter never becomes a label), and only requests no
// route matched are "unmatched".
func TestMetrics_LabelRequestsByRouteTemplate(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	for _, path := range []string{"/api/v1/users/alice", "/api/v1/users/bob", "/healthz", "/nowhere"} {
		ig.apiCall(t, http.MethodGet, path, "")
	}
	resp, err := http.Get(ig.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	out := string(b)
	for _, want := range []string{
		`klaxon_http_requests_total{code="404",route="/api/v1/users/{handle}"} 2`,
		`klaxon_http_requests_total{code="503",route="/healthz"} 1`,
		`klaxon_http_requests_total{code="404",route="unmatched"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s:\n%s", want, grepLines(out, "klaxon_http_requests_total"))
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
