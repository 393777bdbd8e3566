package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
)

func TestE2E_Texts_AnOperatorsTemplatesReplaceThePageTexts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "texts.tmpl")
	if err := os.WriteFile(file, []byte(`
{{define "page.sms"}}[{{.Brand}}] incident #{{.PageID}}: {{.Summary}} (reply {{.Code}}a to take it){{end}}
{{define "page.email.subject"}}Incident #{{.PageID}} needs you{{end}}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{Env: map[string]string{"KLAXON_TEXTS": file, "KLAXON_BRAND": "Acme Ops"}})
	const alice = "+15555550123"
	pagingPerson(t, h, "alice", alice, "alice@example.com")
	id, code := h.createPage(t, map[string]any{"target": "user:alice", "summary": "api latency high", "mode": "blast"})
	if code != http.StatusAccepted {
		t.Fatalf("create page: %d", code)
	}
	sms := h.waitText(alice, "incident #")
	if want := "[Acme Ops] incident #1: api latency high (reply 1a to take it)"; sms.Body != want || id != 1 {
		t.Errorf("text = %q, want %q", sms.Body, want)
	}
	// The subject is the operator's; the body, not overridden, is Klaxon's.
	m := h.waitMail("alice@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Subject, "Incident") })
	if m.Subject != "Incident #1 needs you" || !strings.Contains(m.Body, "Page #1 is open") {
		t.Errorf("mail = %q / %q", m.Subject, m.Body)
	}
}

func TestTexts_BadTemplatesStopTheStartWithOneClearError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "texts.tmpl")
	if err := os.WriteFile(file, []byte(`{{define "page.sms"}}Page {{.Summary}}{{end}}{{define "pager.sms"}}x{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KLAXON_TEXTS": file, "DATABASE_URL": "postgres://127.0.0.1:1/none", "KLAXON_API_TOKEN": "t"}
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, &out, &errOut)
	if err == nil {
		t.Fatal("serve started with bad texts")
	}
	for _, want := range []string{"KLAXON_TEXTS", "page.sms must show {{.Code}}", `"pager.sms" is not a text Klaxon has`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is more than one line: %q", err)
	}
}
