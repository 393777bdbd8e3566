package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/store"
)

// apiCall sends a JSON body (a string, sent as is) to the API with the
// token and returns the status and the decoded answer.
func (ig *inbGateway) apiCall(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ig.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer api-token")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s answered non-JSON %q", method, path, b)
		}
	}
	return resp.StatusCode, out
}

func TestCreateUser_ValidatesLikeTheSchema(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"ok", `{"handle":"alice","name":"Alice Liddell","timezone":"Europe/London"}`, 201, ""},
		{"default timezone", `{"handle":"bob.b_2-x","name":"Bob"}`, 201, ""},
		{"taken", `{"handle":"alice","name":"Other"}`, 409, `The handle "alice" is taken.`},
		{"uppercase", `{"handle":"Carol","name":"Carol"}`, 400, `Handles are lowercase: use "carol".`},
		{"bad characters", `{"handle":"d@ve","name":"Dave"}`, 400, "is not a valid handle"},
		{"starts with a dot", `{"handle":".eve","name":"Eve"}`, 400, "is not a valid handle"},
		{"too long", `{"handle":"` + strings.Repeat("a", 33) + `","name":"Long"}`, 400, "is not a valid handle"},
		{"no handle", `{"name":"Nobody"}`, 400, `Field "handle" is required.`},
		{"no name", `{"handle":"frank","name":"  "}`, 400, `Field "name" is required.`},
		{"name on two lines", `{"handle":"frank","name":"a\nb"}`, 400, "plain text on one line"},
		{"unknown timezone", `{"handle":"gina","name":"Gina","timezone":"Mars/Olympus"}`, 400, "is not a timezone"},
		{"Local is no timezone", `{"handle":"gina","name":"Gina","timezone":"Local"}`, 400, "is not a timezone"},
		{"path in timezone", `{"handle":"gina","name":"Gina","timezone":"../../etc/passwd"}`, 400, "is not a timezone"},
		{"not JSON", `handle=alice`, 400, "not valid JSON"},
		{"wrong type", `{"handle":7,"name":"x"}`, 400, `Field "handle" must be a string.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := ig.apiCall(t, http.MethodPost, "/api/v1/users", tt.body)
			if status != tt.status {
				t.Fatalf("status = %d (%v), want %d", status, out, tt.status)
			}
			if tt.want != "" && !strings.Contains(out["error"].(string), tt.want) {
				t.Errorf("error = %q, want %q", out["error"], tt.want)
			}
		})
	}
	users, err := ig.db.Store.ListUsers(context.Background())
	if err != nil || len(users) != 2 {
		t.Fatalf("users = %+v, %v; want alice and bob only", users, err)
	}
	if users[1].Timezone != "UTC" {
		t.Errorf("bob's timezone = %q, want UTC", users[1].Timezone)
	}
}

func TestUsers_ListAndShow(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	if status, out := ig.apiCall(t, http.MethodGet, "/api/v1/users", ""); status != 200 || len(out["users"].([]any)) != 0 {
		t.Fatalf("empty list = %d %v", status, out)
	}
	ig.apiCall(t, http.MethodPost, "/api/v1/users", `{"handle":"alice","name":"Alice"}`)
	status, out := ig.apiCall(t, http.MethodGet, "/api/v1/users/alice", "")
	if status != 200 || out["handle"] != "alice" || out["contacts"] == nil {
		t.Fatalf("show = %d %v", status, out)
	}
	if status, out := ig.apiCall(t, http.MethodGet, "/api/v1/users/nobody", ""); status != 404 || out["error"] != `No user with handle "nobody".` {
		t.Fatalf("unknown user = %d %v", status, out)
	}
}

func TestAddContact_BadAddressesAreClear400sAndAddNothing(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	ig.apiCall(t, http.MethodPost, "/api/v1/users", `{"handle":"alice","name":"Alice"}`)
	tests := []struct {
		name string
		body string
		want string
	}{
		{"no type", `{"address":"+15555550123"}`, `Field "type" is required`},
		{"unknown type", `{"type":"fax","address":"+15555550123"}`, `Unknown type "fax"`},
		{"no address", `{"type":"sms"}`, `Field "address" is required.`},
		{"letters", `{"type":"sms","address":"abc"}`, "'abc' is not a valid phone number. Phone numbers must include country codes prefixed by a '+'."},
		{"too short", `{"type":"voice","address":"+1555"}`, "too short"},
		{"premium rate", `{"type":"sms","address":"+19005550123"}`, "premium-rate number"},
		{"bad email", `{"type":"email","address":"not-an-address"}`, "'not-an-address' is not a valid email address."},
		{"email with a name", `{"type":"email","address":"Alice <alice@example.com>"}`, "is not a valid email address."},
		{"bad nick", `{"type":"irc","address":"not a nick"}`, "'not a nick' is not a chat nick"},
		{"bare name as a Matrix id", `{"type":"matrix","address":"alice"}`, "'alice' is not a Matrix user id: write it as @name:server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := ig.apiCall(t, http.MethodPost, "/api/v1/users/alice/contacts", tt.body)
			if status != 400 || !strings.Contains(out["error"].(string), tt.want) {
				t.Errorf("answer = %d %v, want 400 with %q", status, out, tt.want)
			}
		})
	}
	if status, _ := ig.apiCall(t, http.MethodPost, "/api/v1/users/nobody/contacts", `{"type":"sms","address":"+15555550123"}`); status != 404 {
		t.Errorf("contact for an unknown user: %d, want 404", status)
	}
	u, _ := ig.db.Store.UserByHandle(context.Background(), "alice")
	if cs, _ := ig.db.Store.Contacts(context.Background(), u.ID, false); len(cs) != 0 {
		t.Errorf("contacts added by bad requests: %+v", cs)
	}
}

func TestVerifyContact_UnknownContactLooksLikeAWrongCode(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	ctx := context.Background()
	u, err := ig.db.Store.CreateUser(ctx, store.User{Handle: "alice", Name: "Alice", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	// A contact with no verification under way (its workflow never ran).
	c, err := ig.db.Store.AddContact(ctx, store.Contact{UserID: u.ID, Type: klaxon.SMS, Address: "+15555550123"})
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{
		"/api/v1/contacts/999999/verify",
		"/api/v1/contacts/abc/verify",
		"/api/v1/contacts/" + itoa(c.ID) + "/verify",
	}
	for _, p := range paths {
		status, out := ig.apiCall(t, http.MethodPost, p, `{"code":"123456"}`)
		if status != 422 || out["error"] != "That code is not valid." {
			t.Errorf("%s = %d %v, want 422 That code is not valid.", p, status, out)
		}
	}
	if status, out := ig.apiCall(t, http.MethodPost, paths[2], `{"code":"12"}`); status != 422 || out["error"] != "That code is not valid." {
		t.Errorf("malformed code = %d %v", status, out)
	}
	if status, out := ig.apiCall(t, http.MethodPost, paths[2], `{}`); status != 400 || out["error"] != `Field "code" is required.` {
		t.Errorf("no code = %d %v", status, out)
	}
}

func TestOTP_BadRequestsAreClear4xx(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	ctx := context.Background()
	if _, err := ig.db.Store.CreateUser(ctx, store.User{Handle: "alice", Name: "Alice", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"neither", `{}`, 400, `Send "phone" (a phone number) or "user" (a handle).`},
		{"both", `{"phone":"+15555550123","user":"alice"}`, 400, `Send either "phone" or "user", not both.`},
		{"bad number", `{"phone":"12"}`, 400, "is not a valid phone number"},
		{"premium number", `{"phone":"+19005550123"}`, 400, "premium-rate number"},
		{"unknown user", `{"user":"nobody"}`, 404, `No user with handle "nobody".`},
		{"no verified number", `{"user":"alice"}`, 422, `User "alice" has no verified SMS number.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := ig.apiCall(t, http.MethodPost, "/api/v1/otp", tt.body)
			if status != tt.status || out["error"] == nil || !strings.Contains(out["error"].(string), tt.want) {
				t.Errorf("answer = %d %v, want %d with %q", status, out, tt.status, tt.want)
			}
		})
	}
	for _, p := range []string{"/api/v1/otp/otp_nope/check", "/api/v1/otp/x/check"} {
		if status, out := ig.apiCall(t, http.MethodPost, p, `{"code":"123456"}`); status != 200 || out["valid"] != false {
			t.Errorf("%s = %d %v, want valid:false", p, status, out)
		}
	}
	var n int
	if err := ig.db.Pool.QueryRow(ctx, `SELECT count(*) FROM challenges`).Scan(&n); err != nil || n != 0 {
		t.Errorf("challenges after bad requests = %d, %v", n, err)
	}
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestAddContact_TemporalDownIsA503ThatSendsNothingAndCanBeResent(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	ig.apiCall(t, http.MethodPost, "/api/v1/users", `{"handle":"alice","name":"Alice"}`)
	status, out := ig.apiCall(t, http.MethodPost, "/api/v1/users/alice/contacts", `{"type":"sms","address":"+15555550123"}`)
	if status != 503 || !strings.Contains(fmt.Sprint(out["error"]), "no code could be sent") || !strings.Contains(fmt.Sprint(out["error"]), "/resend") {
		t.Fatalf("answer = %d %v, want 503 saying how to resend", status, out)
	}
	var n int
	if err := ig.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM challenges WHERE status = 'pending'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("pending challenges = %d, %v; the failed start must leave none", n, err)
	}
}

func TestUsers_NickAndMatrixID(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	if status, out := ig.apiCall(t, http.MethodPost, "/api/v1/users", `{"handle":"alice","name":"Alice"}`); status != 201 || out["nick"] != "alice" || out["active"] != true || out["source"] != "api" {
		t.Fatalf("create alice = %d %v, want nick alice, active, source api", status, out)
	}
	if status, out := ig.apiCall(t, http.MethodPost, "/api/v1/users", `{"handle":"7ops","name":"Ops"}`); status != 400 || !strings.Contains(out["error"].(string), "is not a valid nick") {
		t.Fatalf("handle starting with a digit and no nick = %d %v, want 400 asking for a nick", status, out)
	}
	if status, out := ig.apiCall(t, http.MethodPost, "/api/v1/users", `{"handle":"7ops","name":"Ops","nick":"ops7","matrix_id":"@ops:example.org"}`); status != 201 || out["nick"] != "ops7" || out["matrix_id"] != "@ops:example.org" {
		t.Fatalf("create 7ops = %d %v", status, out)
	}
	tests := []struct {
		name, body string
		status     int
		want       string
	}{
		{"nick", `{"nick":"Al"}`, 200, ""},
		{"taken nick, other case", `{"nick":"OPS7"}`, 409, `The nick "OPS7" is taken.`},
		{"taken matrix id", `{"matrix_id":"@ops:example.org"}`, 409, "belongs to another user"},
		{"bad matrix id", `{"matrix_id":"ops@example.org"}`, 400, "is not a Matrix user id"},
		{"bad nick", `{"nick":"a b"}`, 400, "is not a valid nick"},
		{"bad timezone", `{"timezone":"Mars/Olympus"}`, 400, "is not a timezone"},
		{"nothing", `{}`, 400, "Nothing to change"},
		{"NUL in nick", `{"nick":"a\u0000b"}`, 400, ""},
		{"deactivate", `{"active":false}`, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := ig.apiCall(t, http.MethodPatch, "/api/v1/users/alice", tt.body)
			if status != tt.status {
				t.Fatalf("status = %d (%v), want %d", status, out, tt.status)
			}
			if tt.want != "" && !strings.Contains(out["error"].(string), tt.want) {
				t.Errorf("error = %q, want %q", out["error"], tt.want)
			}
		})
	}
	status, out := ig.apiCall(t, http.MethodGet, "/api/v1/users/alice", "")
	if status != 200 || out["nick"] != "Al" || out["matrix_id"] != nil || out["active"] != false || out["deactivated_at"] == nil {
		t.Fatalf("alice after patches = %d %v: want nick Al, no matrix id, deactivated", status, out)
	}
	if status, _ := ig.apiCall(t, http.MethodPatch, "/api/v1/users/nobody", `{"nick":"x"}`); status != 404 {
		t.Fatalf("patch unknown user = %d, want 404", status)
	}
}

// TestPatchUser_DirectoryUsersAreActivatedByTheDirectory: a user who came
// from the directory is (de)activated by it, never through the API; their
// Klaxon-only fields can still change.
func TestPatchUser_DirectoryUsersAreActivatedByTheDirectory(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	if err := ig.db.Store.SaveDirectoryPerson(context.Background(), 0, store.DirectoryPerson{
		DN: "uid=zoe,ou=people,dc=example,dc=com", Handle: "zoe", Name: "Zoe", Nick: "zoe", Timezone: "UTC", Phone: "+14155550109"}); err != nil {
		t.Fatal(err)
	}
	status, out := ig.apiCall(t, http.MethodPatch, "/api/v1/users/zoe", `{"active":false}`)
	if status != 422 || !strings.Contains(out["error"].(string), "comes from the directory (uid=zoe,ou=people,dc=example,dc=com)") {
		t.Fatalf("deactivating a directory user = %d %v, want 422", status, out)
	}
	if status, out := ig.apiCall(t, http.MethodPatch, "/api/v1/users/zoe", `{"matrix_id":"@zoe:example.org"}`); status != 200 || out["source"] != "ldap" {
		t.Fatalf("linking a directory user's Matrix id = %d %v", status, out)
	}
	status, out = ig.apiCall(t, http.MethodGet, "/api/v1/users/zoe", "")
	cs, _ := out["contacts"].([]any)
	if status != 200 || out["active"] != true || len(cs) != 2 {
		t.Fatalf("zoe = %d %v, want active with her two verified directory contacts", status, out)
	}
	for _, c := range cs {
		if c.(map[string]any)["status"] != "verified" {
			t.Errorf("contact %v, want verified", c)
		}
	}
}
