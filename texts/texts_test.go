package texts_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/texts"
)

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad_RefusesWhatCannotWorkInOneError(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string
	}{
		{"unknown name", `{{define "page.smss"}}x {{.Code}}{{end}}`, []string{`"page.smss" is not a text Klaxon has`, "page.sms"}},
		{"bad syntax", `{{define "page.sms"}}Page {{.Code{{end}}`, []string{"KLAXON_TEXTS"}},
		{"required placeholder missing", `{{define "page.sms"}}Page #{{.PageID}}: {{.Summary}}{{end}}`, []string{"page.sms must show {{.Code}}"}},
		{"unknown variable", `{{define "page.email.subject"}}{{.PageId}}{{end}}`, []string{"page.email.subject", "PageId", ".PageID"}},
		{"text outside blocks", `hello {{define "page.sms"}}{{.Code}}{{end}}`, []string{"outside"}},
		{"every problem at once", `{{define "nope"}}{{end}}{{define "page.sms"}}{{.Summary}}{{end}}`, []string{`"nope"`, "must show {{.Code}}"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := texts.Load(write(t, "texts.tmpl", tc.file))
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestRender_OverridesAndFitsTheSummary(t *testing.T) {
	tx, err := texts.Load(write(t, "texts.tmpl", `
{{define "page.sms"}}[{{.Brand}}] #{{.PageID}} {{.Summary}} -- {{.Code}}a ack / {{.Code}}c close{{end}}
{{define "page.email.subject"}}Incident {{.PageID}}{{end}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !tx.Has("page.sms") || tx.Has("page.call") {
		t.Fatalf("overridden = %v", tx.Names())
	}
	got, ok, err := tx.Render("page.sms", map[string]string{"Brand": "Acme", "PageID": "2", "Code": "1", "Summary": "api latency high."})
	if err != nil || !ok || got != "[Acme] #2 api latency high. -- 1a ack / 1c close" {
		t.Errorf("render = %q %v %v", got, ok, err)
	}
	long := strings.Repeat("replication lag ", 30)
	got, _, _ = tx.Render("page.sms", map[string]string{"PageID": "2", "Code": "1", "Summary": long})
	if len(got) > 160 || !strings.HasSuffix(got, "-- 1a ack / 1c close") || !strings.Contains(got, "...") {
		t.Errorf("long render (%d) = %q", len(got), got)
	}
	if _, ok, _ := tx.Render("page.call", nil); ok {
		t.Error("a text not overridden rendered")
	}
}

func TestLoad_DirectoryOfFilesAndNoPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "page.email.subject.tmpl"), []byte("Incident {{.PageID}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tx, err := texts.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := tx.Render("page.email.subject", map[string]string{"PageID": "9"}); !ok || got != "Incident 9" {
		t.Errorf("render = %q %v", got, ok)
	}
	none, err := texts.Load("")
	if err != nil || none.Has("page.sms") {
		t.Errorf("no path: %v %v", none.Names(), err)
	}
	if _, err := texts.Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing file loaded")
	}
}
