package simulator

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// restPrefix is where Twilio's REST API lives.
const restPrefix = "/2010-04-01/"

// twilioTime is the RFC 2822 form Twilio's JSON uses for dates.
const twilioTime = "Mon, 02 Jan 2006 15:04:05 -0700"

// formatTime renders t as Twilio does, or null for the zero time.
func formatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(twilioTime)
	return &s
}

// restRoutes registers Twilio's REST API on mux.
func (s *Simulator) restRoutes(mux *http.ServeMux) {
	const acct = restPrefix + "Accounts/{AccountSid}"
	mux.HandleFunc("POST "+acct+"/Messages.json", s.createMessage)
	mux.HandleFunc("GET "+acct+"/Messages.json", s.listMessages)
	mux.HandleFunc("GET "+acct+"/Messages/{file}", s.fetchMessage)
	mux.HandleFunc("POST "+acct+"/Calls.json", s.createCall)
	mux.HandleFunc("GET "+acct+"/Calls.json", s.listCalls)
	mux.HandleFunc("GET "+acct+"/Calls/{file}", s.fetchCall)
	mux.HandleFunc("POST "+acct+"/Calls/{file}", s.updateCall)
	mux.HandleFunc("GET "+acct+"/AvailablePhoneNumbers/{country}/Local.json", s.availableLocal)
	mux.HandleFunc("POST "+acct+"/IncomingPhoneNumbers.json", s.createNumber)
	mux.HandleFunc("GET "+acct+"/IncomingPhoneNumbers.json", s.listNumbers)
	mux.HandleFunc("GET "+acct+"/IncomingPhoneNumbers/{file}", s.fetchNumber)
	mux.HandleFunc("POST "+acct+"/IncomingPhoneNumbers/{file}", s.updateNumber)
	mux.HandleFunc("DELETE "+acct+"/IncomingPhoneNumbers/{file}", s.deleteNumber)
	mux.HandleFunc(restPrefix, func(w http.ResponseWriter, r *http.Request) {
		writeNotFound(w, r)
	})
}

// maxRESTBody bounds a REST request's form.
const maxRESTBody = 1 << 20

// rest wraps the REST API: it counts requests, checks basic auth and the
// account in the path, and bounds the body.
func (s *Simulator) rest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		// /2010-04-01/Accounts/{AccountSid}/...
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, restPrefix), "/", 3)
		if len(parts) < 3 || parts[0] != "Accounts" ||
			(s.cfg.AccountSID != "" && parts[1] != s.cfg.AccountSID) {
			writeNotFound(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxRESTBody)
		next.ServeHTTP(w, r)
	})
}

// authorized reports whether r carries the account's credentials.
func (s *Simulator) authorized(r *http.Request) bool {
	if s.cfg.AccountSID == "" && s.cfg.AuthToken == "" {
		return true
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(s.cfg.AccountSID))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(s.cfg.AuthToken))
	return u&p == 1
}

// restError is Twilio's JSON error body, which twilio-go decodes into a
// *client.TwilioRestError.
type restError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// writeError answers a Twilio-shaped error.
func writeError(w http.ResponseWriter, status, code int, format string, args ...any) {
	writeJSON(w, status, restError{
		Code:     code,
		Message:  fmt.Sprintf(format, args...),
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		Status:   status,
	})
}

// writeNotFound answers Twilio's 404 for an unknown resource.
func writeNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, 20404, "The requested resource %s was not found", r.URL.Path)
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

// injectFailure answers the next injected failure, if any, and reports
// whether it did.
func (s *Simulator) injectFailure(w http.ResponseWriter) bool {
	f, ok := s.nextFailure()
	if !ok {
		return false
	}
	if f.code == -1 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.httpStatus)
		_, _ = fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>\n", f.httpStatus, http.StatusText(f.httpStatus))
		return true
	}
	msg := http.StatusText(f.httpStatus)
	switch f.code {
	case 20429:
		msg = "Too Many Requests"
	case 20500:
		msg = "An internal server error has occurred"
	case 20503:
		msg = "Service unavailable"
	}
	writeError(w, f.httpStatus, f.code, "%s", msg)
	return true
}

// parseForm parses a REST request's form, answering 400 when it cannot.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Could not parse the request: %v", err)
		return false
	}
	return true
}

// resourceSID returns the SID in a path segment such as "SMxxx.json".
func resourceSID(r *http.Request) (string, bool) {
	return strings.CutSuffix(r.PathValue("file"), ".json")
}

// resourceURI is the "uri" of a resource, as Twilio gives it.
func resourceURI(account, collection, sid string) string {
	if sid == "" {
		return fmt.Sprintf("/%sAccounts/%s/%s.json", restPrefix[1:], account, collection)
	}
	return fmt.Sprintf("/%sAccounts/%s/%s/%s.json", restPrefix[1:], account, collection, sid)
}

// listPage is the paging envelope of Twilio's list answers. The simulator
// answers every list in one page.
type listPage struct {
	FirstPageURI    string  `json:"first_page_uri"`
	End             int     `json:"end"`
	PreviousPageURI *string `json:"previous_page_uri"`
	URI             string  `json:"uri"`
	PageSize        int     `json:"page_size"`
	Start           int     `json:"start"`
	NextPageURI     *string `json:"next_page_uri"`
	Page            int     `json:"page"`
}

// newListPage describes a single page of n items answering r.
func newListPage(r *http.Request, n int) listPage {
	uri := r.URL.RequestURI()
	size, err := strconv.Atoi(r.Form.Get("PageSize"))
	if err != nil || size <= 0 {
		size = 50
	}
	return listPage{FirstPageURI: uri, URI: uri, End: max(n-1, 0), PageSize: size}
}

// accountOf returns the account SID a REST request is for.
func accountOf(r *http.Request) string { return r.PathValue("AccountSid") }

// The magic numbers of Twilio's test credentials.
const (
	magicInvalid     = "+15005550001"
	magicUnroutable  = "+15005550002"
	magicNoIntl      = "+15005550003"
	magicBlocked     = "+15005550004"
	magicValid       = "+15005550006"
	magicNotOwned    = "+15005550007"
	magicQueueFull   = "+15005550008"
	magicNotMobile   = "+15005550009"
	magicUnavailable = "+15005550000"
)
