package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
	"github.com/klaxonhq/klaxon/workflows"
)

// chromiumPath is Debian's chromium (make deps), or KLAXON_CHROMIUM.
func chromiumPath() string {
	if p := os.Getenv("KLAXON_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// newBrowser starts a headless Chromium with a fresh profile and returns
// a tab's context; the browser stops with the test. A machine without
// Chromium fails the test.
func newBrowser(t testing.TB, width, height int) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Fatalf("browser tests need Chromium at %s (make deps): %v", chromiumPath(), err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
	})
	return tctx
}

// browse runs browser steps, failing the test with what it was doing and
// where the browser was.
func browse(t testing.TB, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%s: %v (at %s: %q)", what, err, loc, body)
	}
}

// textOf is the visible text of the first element matching css.
func textOf(t testing.TB, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

// signInInBrowser signs handle in with the login code the simulator got
// on number.
func signInInBrowser(t testing.TB, h *harness, ctx context.Context, handle, number string, nth int) {
	t.Helper()
	browse(t, ctx, "open the console",
		chromedp.Navigate(h.baseURL+"/"),
		chromedp.WaitVisible(chromedp.ID("handle")),
		chromedp.SendKeys(chromedp.ID("handle"), handle),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	code := h.waitCode(number, "Your Klaxon login code", nth)
	browse(t, ctx, "enter the login code",
		chromedp.SendKeys(chromedp.ID("code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/signin/code"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/pages"]`)),
	)
}

func TestConsole_SignInWithTextedCodeSeeOpenPageAckItAndTheAPIAgrees(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550111"
	pagingPerson(t, h, "alice", number, "")
	id, status := h.createPage(t, map[string]any{"target": "user:alice", "summary": "disk full on db1"})
	if status != http.StatusAccepted {
		t.Fatalf("create page: %d", status)
	}
	h.waitText(number, "disk full on db1")

	ctx := newBrowser(t, 412, 915)
	signInInBrowser(t, h, ctx, "alice", number, 1)

	browse(t, ctx, "see the open page",
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`a[href="/pages/%d"]`, id))))
	list := strings.ToLower(textOf(t, ctx, "ul.pages"))
	if !strings.Contains(list, "disk full on db1") || !strings.Contains(list, "open") {
		t.Fatalf("pages list: %q", list)
	}
	// A new page appears in the open list without a reload.
	id2, _ := h.createPage(t, map[string]any{"target": "user:alice", "summary": "second page arrives"})
	browse(t, ctx, "watch the next page arrive", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`a[href="/pages/%d"]`, id2))))
	browse(t, ctx, "open it",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/pages/%d"]`, id))),
		chromedp.WaitVisible(chromedp.ID("ack")))
	if plan := textOf(t, ctx, "table.plan"); !strings.Contains(plan, "voice") || !strings.Contains(plan, "scheduled") {
		t.Fatalf("the page's plan before the ack: %q", plan)
	}
	browse(t, ctx, "acknowledge it",
		chromedp.Click(chromedp.ID("ack")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	flash, status2 := textOf(t, ctx, ".flash"), strings.ToLower(textOf(t, ctx, "#page-status"))
	if !strings.Contains(strings.ToLower(flash), "acknowledged") || status2 != "acked" {
		t.Fatalf("after ack: flash %q, status %q", flash, status2)
	}
	p := h.page(t, id)
	if p.Status != "acked" || p.AckedBy != "alice" {
		t.Fatalf("API says page %d is %s by %q", id, p.Status, p.AckedBy)
	}
	if plan := textOf(t, ctx, "table.plan"); strings.Contains(plan, "scheduled") || !strings.Contains(plan, "canceled") {
		t.Fatalf("the page's plan after the ack: %q", plan)
	}
	// The call that was due at two minutes is canceled: the timeline says
	// so, and the console shows it.
	if !hasEvent(p, paging.EventAcked, "") {
		t.Fatalf("no acked event: %+v", p.Events)
	}
	timeline := textOf(t, ctx, "ol.timeline")
	if !strings.Contains(timeline, "acked") {
		t.Fatalf("timeline: %q", timeline)
	}
	if calls := h.sim.Calls(number); len(calls) != 0 {
		t.Fatalf("a call reached %s after the ack: %+v", number, calls)
	}
}

func TestConsole_AddAndVerifyAContactMethodInTheBrowser(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550112"
	pagingPerson(t, h, "bea", number, "")
	ctx := newBrowser(t, 412, 915)
	signInInBrowser(t, h, ctx, "bea", number, 1)

	browse(t, ctx, "add an email address",
		chromedp.Navigate(h.baseURL+"/me"),
		chromedp.WaitVisible(chromedp.ID("ct-address")),
		chromedp.SetValue(chromedp.ID("ct-type"), "email"),
		chromedp.SendKeys(chromedp.ID("ct-address"), "bea@example.com"),
		chromedp.Click(chromedp.CSS(`form[action="/me/contacts"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	mail := h.waitMail("bea@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Body, "code is") })
	code := codePattern.FindString(mail.Body)
	if code == "" {
		t.Fatalf("no code in %q", mail.Body)
	}
	var c store.Contact
	cs, err := h.store.Contacts(context.Background(), mustUser(t, h, "bea").ID, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range cs {
		if x.Type == klaxon.Email {
			c = x
		}
	}
	if c.ID == 0 || c.Status != store.ContactPending {
		t.Fatalf("contact after add: %+v", c)
	}
	browse(t, ctx, "verify it with the mailed code",
		chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("#code-%d", c.ID)), code),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/me/contacts/%d/verify"] button`, c.ID))),
		chromedp.WaitNotPresent(chromedp.CSS(fmt.Sprintf("#code-%d", c.ID))),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := textOf(t, ctx, ".flash"); !strings.Contains(flash, "verified") {
		t.Fatalf("flash %q", flash)
	}
	if s := h.contactStatus(c.ID); s != store.ContactVerified {
		t.Fatalf("contact is %s", s)
	}
}

var ackLinkPattern = regexp.MustCompile(`http://[^\s]+/ack/[A-Za-z0-9_-]+`)

func TestConsole_AckLinkFromTheMailSink_GetChangesNothingPostAcksOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550113"
	pagingPerson(t, h, "cara", number, "cara@example.com")
	if code := h.api(http.MethodPut, "/api/v1/users/cara/notification-rules", map[string]any{"rules": []map[string]any{
		{"medium": "sms", "delay_seconds": 0}, {"medium": "email", "delay_seconds": 0},
	}}, nil); code != http.StatusOK {
		t.Fatalf("set rules: %d", code)
	}
	id, _ := h.createPage(t, map[string]any{"target": "user:cara", "summary": "queue backlog growing"})
	mail := h.waitMail("cara@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Body, "queue backlog") })
	link := ackLinkPattern.FindString(mail.Body)
	if link == "" || !strings.HasPrefix(link, h.baseURL+"/ack/") {
		t.Fatalf("no ack link under the public URL in %q", mail.Body)
	}
	if !strings.Contains(mail.Body, hPagingNumber) || !regexp.MustCompile(`text \d+a`).MatchString(mail.Body) {
		t.Fatalf("the email names neither the paging number nor the reply code: %q", mail.Body)
	}
	// A mail scanner's GET (twice) changes nothing.
	for range 2 {
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "queue backlog growing") || !strings.Contains(string(body), "<form method=\"post\"") {
			t.Fatalf("GET link: %d %s", resp.StatusCode, body)
		}
	}
	if p := h.page(t, id); p.Status != "open" {
		t.Fatalf("a GET changed page %d to %s", id, p.Status)
	}

	ctx := newBrowser(t, 412, 915)
	browse(t, ctx, "open the link and press the one button",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.ID("ack")),
		chromedp.Click(chromedp.ID("ack")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if title := textOf(t, ctx, "h1"); title != "Acknowledged" {
		t.Fatalf("after POST: %q", title)
	}
	p := h.page(t, id)
	if p.Status != "acked" || p.AckedBy != "cara" {
		t.Fatalf("API: page %d %s by %q", id, p.Status, p.AckedBy)
	}
	// Single use: the link now shows no form.
	browse(t, ctx, "open it again",
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	)
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#ack").length`)); err != nil || n != 0 {
		t.Fatal("a used link still offers to acknowledge")
	}
	// A second page's link dies with its page: resolved, it shows no
	// form, and a POST (the form kept open in another tab) changes nothing.
	id2, _ := h.createPage(t, map[string]any{"target": "user:cara", "summary": "second alert"})
	mail2 := h.waitMail("cara@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Body, "second alert") })
	link2 := ackLinkPattern.FindString(mail2.Body)
	browse(t, ctx, "open the second link", chromedp.Navigate(link2), chromedp.WaitVisible(chromedp.ID("ack")))
	if code := h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/resolve", id2), map[string]string{"by": "api"}, nil); code != http.StatusOK {
		t.Fatalf("resolve: %d", code)
	}
	browse(t, ctx, "press its button after the page closed", chromedp.Click(chromedp.ID("ack")),
		chromedp.WaitNotPresent(chromedp.ID("ack")), chromedp.WaitVisible(chromedp.CSS("main")))
	if body := textOf(t, ctx, "main"); !strings.Contains(body, "resolved by api; the link has expired") {
		t.Fatalf("after the page closed: %q", body)
	}
	if p := h.page(t, id2); p.Status != "resolved" || p.AckedBy != "" {
		t.Fatalf("page %d: %s acked by %q", id2, p.Status, p.AckedBy)
	}

	// The database holds the link's hash (now used), not the token.
	token := link[strings.LastIndex(link, "/")+1:]
	var used bool
	if err := h.db.Pool.QueryRow(context.Background(), `SELECT used_at IS NOT NULL FROM ack_links WHERE token_hash = $1`, hashForTest(token)).Scan(&used); err != nil {
		t.Fatalf("no ack link stored under the token's hash: %v", err)
	}
	if !used {
		t.Fatal("the used link is not marked used")
	}
}

func hashForTest(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func mustUser(t testing.TB, h *harness, handle string) store.User {
	t.Helper()
	u, err := h.store.UserByHandle(context.Background(), handle)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// consoleClient is a plain HTTP client with a cookie jar that does not
// follow redirects, for the handler tests.
func consoleClient(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// sessionFor opens a console session for a user straight in Postgres and
// puts its cookie in the client's jar; it returns the CSRF token.
func sessionFor(t testing.TB, h *harness, c *http.Client, userID int64, expires time.Time) string {
	t.Helper()
	token := fmt.Sprintf("test-session-token-%d-%d", userID, time.Now().UnixNano())
	csrf := "test-csrf-token-0123456789abcdef0123456789"
	if err := h.store.CreateSession(context.Background(), hashForTest(token), userID, false, csrf, expires); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(h.baseURL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "klaxon_session", Value: token, Path: "/"}})
	return csrf
}

func TestConsole_Handlers_CSRFBadInputAndExpiredSessions(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	u := pagingPerson(t, h, "dan", "+15555550114", "")
	id, _ := h.createPage(t, map[string]any{"target": "user:dan", "summary": "cpu hot"})
	c := consoleClient(t)
	csrf := sessionFor(t, h, c, u.ID, time.Now().Add(time.Hour))
	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		resp, err := c.PostForm(h.baseURL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := c.Get(h.baseURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Location"), string(b)
	}

	cases := []struct {
		name   string
		path   string
		form   url.Values
		status int
		says   string
	}{
		{"ack without a CSRF token", fmt.Sprintf("/pages/%d/ack", id), url.Values{}, http.StatusForbidden, "did not come from this site"},
		{"ack with a wrong CSRF token", fmt.Sprintf("/pages/%d/ack", id), url.Values{"csrf": {"nope"}}, http.StatusForbidden, "did not come from this site"},
		{"resolve with no CSRF token", fmt.Sprintf("/pages/%d/resolve", id), nil, http.StatusForbidden, "reload the page"},
		{"an unknown page", "/pages/999999/ack", url.Values{"csrf": {csrf}}, http.StatusNotFound, "No page 999999."},
		{"a contact that is no phone number", "/me/contacts", url.Values{"csrf": {csrf}, "type": {"sms"}, "address": {"not a number"}}, http.StatusBadRequest, ""},
		{"a contact of an unknown type", "/me/contacts", url.Values{"csrf": {csrf}, "type": {"pigeon"}, "address": {"x"}}, http.StatusBadRequest, ""},
		{"an override without times", "/oncall/none/overrides", url.Values{"csrf": {csrf}}, http.StatusNotFound, ""},
		{"a rule of an unknown medium", "/me/rules", url.Values{"csrf": {csrf}, "medium": {"pigeon"}, "delay": {"0"}}, http.StatusBadRequest, "Unknown medium"},
		{"a rule with a negative wait", "/me/rules", url.Values{"csrf": {csrf}, "medium": {"sms"}, "delay": {"-5"}}, http.StatusBadRequest, "between 0 and"},
		{"a rule whose wait is no number", "/me/rules", url.Values{"csrf": {csrf}, "medium": {"sms"}, "delay": {"soon"}}, http.StatusBadRequest, "whole number"},
		{"sign-in without its CSRF cookie", "/signin", url.Values{"handle": {"dan"}}, http.StatusForbidden, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.path, tc.form)
			if status != tc.status || !strings.Contains(body, tc.says) {
				t.Fatalf("POST %s: %d %q", tc.path, status, body)
			}
		})
	}
	if p := h.page(t, id); p.Status != "open" {
		t.Fatalf("a refused form changed page %d to %s", id, p.Status)
	}
	var stored int
	if err := h.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM notification_rules WHERE user_id = $1`, u.ID).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("refused rules changed the rules: %d %v", stored, err)
	}
	if status, _ := post("/me/rules", url.Values{"csrf": {csrf}, "medium": {"voice", "", "sms"}, "delay": {"0", "0", "60"}}); status != http.StatusSeeOther {
		t.Fatalf("save rules: %d", status)
	}
	if rules, err := h.store.NotificationRules(context.Background(), u.ID); err != nil || len(rules) != 2 || rules[0].Medium != "voice" || rules[1].DelaySeconds != 60 {
		t.Fatalf("saved rules: %+v %v", rules, err)
	}
	if status, _, body := get("/me"); status != http.StatusOK || !strings.Contains(body, "15555550114") {
		t.Fatalf("me: %d (the person's own number in full)", status)
	}
	if status, _, _ := get("/pages?status=bogus"); status != http.StatusBadRequest {
		t.Fatalf("bad status filter: %d", status)
	}
	if status, _, _ := get("/pages?target=nonsense"); status != http.StatusBadRequest {
		t.Fatalf("bad target filter: %d", status)
	}
	if status, _, body := get("/pages"); status != http.StatusOK || !strings.Contains(body, "cpu hot") {
		t.Fatalf("pages: %d", status)
	}
	// A page shows no full number of anyone else.
	if _, _, body := get(fmt.Sprintf("/pages/%d", id)); strings.Contains(body, "15555550114") {
		t.Fatal("the page's timeline shows a full phone number")
	}

	// An expired session signs nobody in.
	old := consoleClient(t)
	oldCSRF := sessionFor(t, h, old, u.ID, time.Now().Add(-time.Minute))
	resp, err := old.Get(h.baseURL + "/pages")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Fatalf("expired session GET: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err = old.PostForm(h.baseURL+fmt.Sprintf("/pages/%d/ack", id), url.Values{"csrf": {oldCSRF}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("expired session POST: %d", resp.StatusCode)
	}
	if p := h.page(t, id); p.Status != "open" {
		t.Fatalf("an expired session changed page %d to %s", id, p.Status)
	}

	// Signing out everywhere ends the live session too.
	if status, _ := post("/signout/everywhere", url.Values{"csrf": {csrf}}); status != http.StatusSeeOther {
		t.Fatalf("sign out everywhere: %d", status)
	}
	if status, loc, _ := get("/pages"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin") {
		t.Fatalf("after sign-out everywhere: %d %s", status, loc)
	}
}

func TestConsole_EscalateNowButtonPagesTheNextStepAtOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice, bob = "+15555550115", "+15555550116"
	pagingPerson(t, h, "ann", alice, "")
	pagingPerson(t, h, "ben", bob, "")
	if code := h.api(http.MethodPost, "/api/v1/policies", map[string]any{"name": "db", "steps": []map[string]any{
		{"targets": []string{"user:ann"}, "delay_seconds": 600},
		{"targets": []string{"user:ben"}, "delay_seconds": 600},
	}}, nil); code != http.StatusCreated {
		t.Fatalf("create policy: %d", code)
	}
	id, _ := h.createPage(t, map[string]any{"target": "policy:db", "summary": "replica lag"})
	h.waitText(alice, "replica lag")

	ctx := newBrowser(t, 412, 915)
	signInInBrowser(t, h, ctx, "ann", alice, 1)
	browse(t, ctx, "escalate the page",
		chromedp.Navigate(fmt.Sprintf("%s/pages/%d", h.baseURL, id)),
		chromedp.WaitVisible(chromedp.ID("escalate")),
		chromedp.Click(chromedp.ID("escalate")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := textOf(t, ctx, ".flash"); !strings.Contains(flash, "Escalated") {
		t.Fatalf("flash %q", flash)
	}
	// Ben's step was due in ten minutes; it pages him now.
	h.waitText(bob, "replica lag")
	browse(t, ctx, "acknowledge it", chromedp.Click(chromedp.ID("ack")), chromedp.WaitNotPresent(chromedp.ID("ack")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if flash := textOf(t, ctx, ".flash"); !strings.Contains(strings.ToLower(flash), "acknowledged") {
		t.Fatalf("flash after the ack %q", flash)
	}
	if p := h.page(t, id); p.Status != "acked" || p.AckedBy != "ann" {
		t.Fatalf("page %d %s by %q", id, p.Status, p.AckedBy)
	}
	// An acknowledged page has nobody left to escalate to.
	var refusal struct{ Error string }
	if code := h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/escalate", id), nil, &refusal); code != http.StatusConflict {
		t.Fatalf("escalate an acked page: %d %s", code, refusal.Error)
	}
	if code := h.api(http.MethodPost, fmt.Sprintf("/api/v1/pages/%d/resolve", id), nil, nil); code != http.StatusOK {
		t.Fatalf("resolve: %d", code)
	}
	if path := os.Getenv("KLAXON_RECORD_HISTORY"); path != "" {
		recordHistory(t, h, workflows.PageWorkflowID(h.cfg.TaskQueue, id), path)
	}
}

// recordHistory writes a finished workflow's history as JSON, as the
// replay tests read it (KLAXON_RECORD_HISTORY=path go test -run ...).
func recordHistory(t testing.TB, h *harness, workflowID, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.temporal.GetWorkflow(ctx, workflowID, "").Get(ctx, nil); err != nil {
		t.Fatalf("wait for %s: %v", workflowID, err)
	}
	var hist historypb.History
	it := h.temporal.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&hist)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestConsole_TrustedDeviceSkipsTheCodeUntilSignOutEverywhere(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550117"
	pagingPerson(t, h, "eve", number, "")
	ctx := newBrowser(t, 412, 915)
	browse(t, ctx, "sign in, trusting this device",
		chromedp.Navigate(h.baseURL+"/signin"),
		chromedp.WaitVisible(chromedp.ID("handle")),
		chromedp.SendKeys(chromedp.ID("handle"), "eve"),
		chromedp.Click(chromedp.CSS(`input[name=trust]`)),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	browse(t, ctx, "enter the code",
		chromedp.SendKeys(chromedp.ID("code"), h.waitCode(number, "Your Klaxon login code", 1)),
		chromedp.Click(chromedp.CSS(`form[action="/signin/code"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/pages"]`)),
	)
	signOut := func(action string) {
		t.Helper()
		browse(t, ctx, "sign out ("+action+")",
			chromedp.Navigate(h.baseURL+"/me"),
			chromedp.Click(chromedp.CSS(`form[action="`+action+`"] button`)),
			chromedp.WaitVisible(chromedp.ID("handle")),
		)
	}
	signOut("/signout")
	browse(t, ctx, "sign in again on the trusted device",
		chromedp.SendKeys(chromedp.ID("handle"), "eve"),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/pages"]`)),
	)
	if n := countTexts(h, number, "login code"); n != 1 {
		t.Fatalf("%d login codes sent, want 1: the trusted device needs none", n)
	}
	signOut("/signout/everywhere")
	browse(t, ctx, "sign in after signing out everywhere",
		chromedp.SendKeys(chromedp.ID("handle"), "eve"),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	h.waitCode(number, "Your Klaxon login code", 2)
}
