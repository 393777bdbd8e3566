package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
)

// TestConsole_Screenshots_OfTheMainScreens drives the console through its
// main screens on a phone-sized window and photographs each. `make
// screenshots` keeps them in docs/screenshots (KLAXON_SCREENSHOTS names
// the directory); otherwise they go to a temporary one. Every screen must
// show what it is for, so this is also a test of the screens.
func TestConsole_Screenshots_OfTheMainScreens(t *testing.T) {
	dir := os.Getenv("KLAXON_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOptions{})
	const alice, bob = "+15555550121", "+15555550122"
	pagingPerson(t, h, "alice", alice, "alice@example.com")
	pagingPerson(t, h, "bob", bob, "")
	pagingPerson(t, h, "carol", "", "carol@example.com")
	mustAPI := func(method, path string, body any, want int) {
		t.Helper()
		var out struct{ Error string }
		if code := h.api(method, path, body, &out); code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, out.Error)
		}
	}
	mustAPI(http.MethodPut, "/api/v1/users/carol/notification-rules", map[string]any{"rules": []map[string]any{{"medium": "email", "delay_seconds": 0}}}, http.StatusOK)
	start := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	mustAPI(http.MethodPost, "/api/v1/rotations", map[string]any{"name": "ops", "timezone": "UTC", "members": []string{"alice", "bob"},
		"shift_hours": 24, "start": start.Format(time.RFC3339)}, http.StatusCreated)
	cover := start.Add(48 * time.Hour)
	mustAPI(http.MethodPost, "/api/v1/rotations/ops/overrides", map[string]any{"user": "carol",
		"start": cover.Format(time.RFC3339), "end": cover.Add(8 * time.Hour).Format(time.RFC3339)}, http.StatusCreated)
	mustAPI(http.MethodPost, "/api/v1/policies", map[string]any{"name": "db", "steps": []map[string]any{
		{"targets": []string{"rotation:ops"}, "delay_seconds": 300}, {"targets": []string{"user:carol"}, "delay_seconds": 300},
	}}, http.StatusCreated)
	svc := h.createService(t, "api", "rotation:ops")
	if code, _ := h.monitor(t, "/api/v1/integrations/"+svc.Key+"/events", `{"summary":"api p99 latency above 2s","dedup_key":"lat"}`); code != http.StatusAccepted {
		t.Fatalf("event intake: %d", code)
	}
	resolved, _ := h.createPage(t, map[string]any{"target": "user:bob", "summary": "certificate renewal failed"})
	acked, _ := h.createPage(t, map[string]any{"target": "rotation:ops", "summary": "disk 91% full on db-2"})
	mustAPI(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/ack", acked), map[string]string{"by": "bob"}, http.StatusOK)
	mustAPI(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/resolve", resolved), map[string]string{"by": "bob"}, http.StatusOK)
	open, _ := h.createPage(t, map[string]any{"target": "policy:db", "summary": "checkout error rate 12%", "details": "orders-api 5xx since 03:58 UTC\nrunbook: https://wiki.example.com/checkout"})
	h.waitText(alice, "checkout error rate")
	toCarol, _ := h.createPage(t, map[string]any{"target": "user:carol", "summary": "backup job missed its window"})
	mail := h.waitMail("carol@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Body, "backup job") })
	link := ackLinkPattern.FindString(mail.Body)
	if link == "" {
		t.Fatalf("no ack link in %q", mail.Body)
	}

	ctx := newBrowser(t, 412, 915)
	browse(t, ctx, "be a phone", chromedp.EmulateViewport(412, 915, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	shot := func(name, waitFor, mustSay string) {
		t.Helper()
		browse(t, ctx, "wait for "+name, chromedp.WaitVisible(chromedp.CSS(waitFor)))
		if w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`)); err != nil || w > 0 {
			t.Errorf("%s is %d px wider than a phone's screen (%v)", name, w, err)
		}
		if body := textOf(t, ctx, "main"); !strings.Contains(body, mustSay) {
			t.Fatalf("%s does not say %q: %q", name, mustSay, body)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	browse(t, ctx, "open the sign-in page", chromedp.Navigate(h.baseURL+"/"))
	shot("signin", "#handle", "Trust this device")
	signInInBrowser(t, h, ctx, "alice", alice, 1)
	browse(t, ctx, "see every page", chromedp.Navigate(h.baseURL+"/pages?status=all"))
	shot("pages", "ul.pages", "checkout error rate")
	browse(t, ctx, "open a page", chromedp.Navigate(fmt.Sprintf("%s/pages/%d", h.baseURL, open)))
	h.eventually("the page's first texts in its timeline", func() bool {
		return hasEvent(h.page(t, open), "notified", "")
	})
	browse(t, ctx, "reload it", chromedp.Reload())
	shot("page", "ol.timeline", "notified")
	browse(t, ctx, "see who is on call", chromedp.Navigate(h.baseURL+"/oncall"))
	shot("oncall", "table", "override")
	browse(t, ctx, "see my contact methods", chromedp.Navigate(h.baseURL+"/me"))
	shot("me", "ul.contacts", alice)
	browse(t, ctx, "open the admin pages",
		chromedp.Navigate(h.baseURL+"/admin"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), hToken),
		chromedp.Click(chromedp.CSS(`form[action="/admin/elevate"] button`)),
	)
	shot("admin", "#u-h", "Number pool")
	browse(t, ctx, "open the emailed ack link", chromedp.Navigate(link))
	shot("ack-link", "#ack", fmt.Sprintf("Page %d", toCarol))
	// No screen shows another person's full number.
	for _, path := range []string{"/pages?status=all", fmt.Sprintf("/pages/%d", open), "/oncall", "/admin"} {
		browse(t, ctx, "open "+path, chromedp.Navigate(h.baseURL+path), chromedp.WaitVisible(chromedp.CSS("main")))
		html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(html, bob) || strings.Contains(html, hMaintainer) {
			t.Fatalf("%s shows another person's full number", path)
		}
	}
}
