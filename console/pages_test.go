package console

import (
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

func TestPageRows_EscapeEveryValue(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	ps := []store.ListedPage{{Page: paging.Page{ID: 7, Status: "open", Target: "user:alice", Summary: `<script>alert("x")</script> & co`,
		AckedBy: `"bob"`, CreatedAt: now.Add(-3 * time.Hour)}, Service: "api<1>"}}
	got := string(pageRows(ps, now))
	for _, want := range []string{`href="/pages/7"`, `&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co`, `api&lt;1&gt;`,
		`acked by &#34;bob&#34;`, `3 hours ago`, `datetime="2026-12-03T06:00:00Z"`} {
		if !strings.Contains(got, want) {
			t.Errorf("row lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<script>") {
		t.Errorf("an unescaped summary: %s", got)
	}
}

func TestSince_SaysRoughlyHowLongAgo(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		ago  time.Duration
		want string
	}{
		{"seconds", 20 * time.Second, "just now"},
		{"one minute", 61 * time.Second, "1 minute ago"},
		{"minutes", 12 * time.Minute, "12 minutes ago"},
		{"hours", 30 * time.Hour, "30 hours ago"},
		{"days", 80 * time.Hour, "3 days ago"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := since(now, now.Add(-c.ago)); got != c.want {
				t.Errorf("since = %q, want %q", got, c.want)
			}
		})
	}
}
