package simulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
)

// call is the simulator's record of a call: placed by Klaxon through the
// REST API, or dialled by a phone to one of Klaxon's numbers.
type call struct {
	Call
	account              string
	url, method, twiml   string
	statusCallback       string
	statusCallbackMethod string
	events               map[string]bool // StatusCallbackEvent values asked for
	machineDetection     string          // "", "Enable" or "DetectMessageEnd"
	timeout              time.Duration

	updated, started, answered, ended time.Time

	hangup   chan struct{} // closed when the REST API hangs the call up
	hungUp   bool
	finished bool // final status recorded and its callback sent
	seq      int  // SequenceNumber of the next status callback

	// A live call is one a person follows: it rings until they answer
	// (AnswerPerson), or they dialled it themselves, and each menu waits
	// for the keys they press. pickUp is closed when they answer; keys
	// carries what they type on the keypad.
	live   bool
	pickUp chan struct{}
	keys   chan string
}

// keypadBuffer is how many key presses a live call holds before a menu
// reads them.
const keypadBuffer = 16

// snapshot copies the public view of c. s.mu must be held.
func (c *call) snapshot() Call {
	out := c.Call
	out.Live = c.live && !c.finished
	out.Transcript = slices.Clone(c.Transcript)
	out.Digits = slices.Clone(c.Digits)
	return out
}

// finalCallStatus reports whether a call in status has ended.
func finalCallStatus(status string) bool {
	switch status {
	case "completed", "busy", "no-answer", "failed", "canceled":
		return true
	}
	return false
}

// apiCall is Twilio's JSON for a call resource.
type apiCall struct {
	AccountSID      string            `json:"account_sid"`
	AnsweredBy      *string           `json:"answered_by"`
	APIVersion      string            `json:"api_version"`
	CallerName      *string           `json:"caller_name"`
	DateCreated     *string           `json:"date_created"`
	DateUpdated     *string           `json:"date_updated"`
	Direction       string            `json:"direction"`
	Duration        *string           `json:"duration"`
	EndTime         *string           `json:"end_time"`
	ForwardedFrom   *string           `json:"forwarded_from"`
	From            string            `json:"from"`
	FromFormatted   string            `json:"from_formatted"`
	GroupSID        *string           `json:"group_sid"`
	ParentCallSID   *string           `json:"parent_call_sid"`
	PhoneNumberSID  *string           `json:"phone_number_sid"`
	Price           *string           `json:"price"`
	PriceUnit       string            `json:"price_unit"`
	QueueTime       string            `json:"queue_time"`
	SID             string            `json:"sid"`
	StartTime       *string           `json:"start_time"`
	Status          string            `json:"status"`
	SubresourceURIs map[string]string `json:"subresource_uris"`
	To              string            `json:"to"`
	ToFormatted     string            `json:"to_formatted"`
	TrunkSID        *string           `json:"trunk_sid"`
	URI             string            `json:"uri"`
}

// toAPI renders c as Twilio does. s.mu must be held.
func (c *call) toAPI() apiCall {
	uri := resourceURI(c.account, "Calls", c.SID)
	base := strings.TrimSuffix(uri, ".json")
	a := apiCall{
		AccountSID:    c.account,
		AnsweredBy:    nullable(c.AnsweredBy),
		APIVersion:    apiVersion,
		DateCreated:   formatTime(c.Created),
		DateUpdated:   formatTime(c.updated),
		Direction:     c.Direction,
		EndTime:       formatTime(c.ended),
		From:          c.From,
		FromFormatted: formatNumber(c.From),
		PriceUnit:     "USD",
		QueueTime:     "0",
		SID:           c.SID,
		StartTime:     formatTime(c.started),
		Status:        c.Status,
		SubresourceURIs: map[string]string{
			"notifications": base + "/Notifications.json",
			"recordings":    base + "/Recordings.json",
			"events":        base + "/Events.json",
		},
		To:          c.To,
		ToFormatted: formatNumber(c.To),
		URI:         uri,
	}
	if c.Status == "completed" && !c.answered.IsZero() {
		a.Duration = nullable(strconv.Itoa(c.duration()))
	}
	return a
}

// duration is the call's length in whole seconds from answer to end.
func (c *call) duration() int {
	if c.answered.IsZero() || c.ended.IsZero() {
		return 0
	}
	return int((c.ended.Sub(c.answered) + time.Second - 1) / time.Second)
}

// formatNumber formats a North American number as Twilio shows it,
// "(415) 555-0100"; other numbers are shown as they are.
func formatNumber(n string) string {
	if len(n) != 12 || !strings.HasPrefix(n, "+1") || !phone.IsE164(n) {
		return n
	}
	return "(" + n[2:5] + ") " + n[5:8] + "-" + n[8:]
}

// The status callback events Twilio knows; "completed" is always sent.
var callEvents = map[string]bool{"initiated": true, "ringing": true, "answered": true, "completed": true}

// createCall serves POST Calls.json: Klaxon places a call.
func (s *Simulator) createCall(w http.ResponseWriter, r *http.Request) {
	if s.injectFailure(w) || !parseForm(w, r) {
		return
	}
	f := r.PostForm
	to := strings.TrimSpace(f.Get("To"))
	from := strings.TrimSpace(f.Get("From"))
	twimlURL := strings.TrimSpace(f.Get("Url"))
	twiml := f.Get("Twiml")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	case from == "":
		writeError(w, http.StatusBadRequest, 21213, "No 'From' number is specified")
		return
	case twimlURL == "" && twiml == "":
		writeError(w, http.StatusBadRequest, 21205, "Url or Twiml is required")
		return
	case twimlURL != "" && !absoluteHTTP(twimlURL):
		writeError(w, http.StatusBadRequest, 21205, "Url is not a valid URL: %s", twimlURL)
		return
	case to == magicInvalid:
		writeError(w, http.StatusBadRequest, 21217, "Phone number does not appear to be valid")
		return
	case !phone.IsE164(to):
		writeError(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: %s", to)
		return
	case !phone.IsE164(from) || from == magicInvalid:
		writeError(w, http.StatusBadRequest, 21212, "Invalid 'From' Phone Number: %s", from)
		return
	case to == magicUnroutable:
		writeError(w, http.StatusBadRequest, 21214, "'To' phone number cannot be reached")
		return
	case to == magicNoIntl:
		writeError(w, http.StatusBadRequest, 21215, "Account not authorized to call %s", to)
		return
	case to == magicBlocked:
		writeError(w, http.StatusBadRequest, 21216, "Call blocked by Twilio blocklist")
		return
	}
	cb := strings.TrimSpace(f.Get("StatusCallback"))
	if cb != "" && !absoluteHTTP(cb) {
		writeError(w, http.StatusBadRequest, 21609, "StatusCallback is not a valid URL: %s", cb)
		return
	}
	events := map[string]bool{}
	for _, v := range f["StatusCallbackEvent"] {
		for _, e := range strings.Fields(v) {
			e = strings.ToLower(e)
			if !callEvents[e] {
				writeError(w, http.StatusBadRequest, 21626, "Invalid StatusCallbackEvent: %s", e)
				return
			}
			events[e] = true
		}
	}
	amd := f.Get("MachineDetection")
	switch amd {
	case "", "Enable", "DetectMessageEnd":
	default:
		writeError(w, http.StatusBadRequest, 21208, "MachineDetection must be 'Enable' or 'DetectMessageEnd'")
		return
	}
	timeout := 60 * time.Second
	if v := f.Get("Timeout"); v != "" {
		secs, err := strconv.Atoi(v)
		if err != nil || secs < 0 {
			writeError(w, http.StatusBadRequest, 21207, "Timeout must be a number of seconds")
			return
		}
		timeout = time.Duration(min(max(secs, 5), 600)) * time.Second
	}

	now := time.Now().UTC()
	c := &call{
		Call: Call{
			SID:        newID("CA"),
			From:       from,
			To:         to,
			Status:     "queued",
			Direction:  directionOutboundAPI,
			Transcript: []string{},
			Digits:     []string{},
			Created:    now,
		},
		account:              accountOf(r),
		url:                  twimlURL,
		method:               f.Get("Method"),
		twiml:                twiml,
		statusCallback:       cb,
		statusCallbackMethod: f.Get("StatusCallbackMethod"),
		events:               events,
		machineDetection:     amd,
		timeout:              timeout,
		updated:              now,
		hangup:               make(chan struct{}),
		pickUp:               make(chan struct{}),
		keys:                 make(chan string, keypadBuffer),
	}
	if twiml != "" {
		c.url = "" // inline TwiML wins, as on Twilio
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.callBySID[c.SID] = c
	s.notifyLocked()
	resp := c.toAPI()
	s.mu.Unlock()

	s.log.LogAttrs(r.Context(), slog.LevelInfo, "simulator call placed",
		slog.String("sid", c.SID), slog.String("to", redact.Number(to)))
	writeJSON(w, http.StatusCreated, resp)
	s.goBackground(func(ctx context.Context) { s.runCall(ctx, c) })
}

// absoluteHTTP reports whether raw is an absolute http or https URL.
func absoluteHTTP(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// fetchCall serves GET Calls/{Sid}.json.
func (s *Simulator) fetchCall(w http.ResponseWriter, r *http.Request) {
	c, a, ok := s.lookupCall(r)
	if !ok || c == nil {
		writeNotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// lookupCall finds the call a REST request names.
func (s *Simulator) lookupCall(r *http.Request) (*call, apiCall, bool) {
	sid, ok := resourceSID(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.callBySID[sid]
	if !ok || c == nil || c.account != accountOf(r) {
		return nil, apiCall{}, false
	}
	return c, c.toAPI(), true
}

// updateCall serves POST Calls/{Sid}.json. Status=canceled ends a call that
// has not been answered yet; Status=completed ends any call still going. A
// call that has ended answers Twilio's 21220. Redirecting a live call (Url,
// Twiml) is not simulated.
func (s *Simulator) updateCall(w http.ResponseWriter, r *http.Request) {
	c, _, ok := s.lookupCall(r)
	if !ok {
		writeNotFound(w, r)
		return
	}
	if !parseForm(w, r) {
		return
	}
	status := r.PostForm.Get("Status")
	switch status {
	case "", "canceled", "completed":
	default:
		writeError(w, http.StatusBadRequest, 20001, "Status must be 'canceled' or 'completed'")
		return
	}
	s.mu.Lock()
	if finalCallStatus(c.Status) {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, 21220, "Call is not in-progress. Cannot redirect.")
		return
	}
	switch {
	case status == "":
	case status == "canceled" && c.Status != "in-progress",
		status == "completed":
		c.hungUp = true
		c.Status = status
		c.updated = time.Now().UTC()
		close(c.hangup)
		s.notifyLocked()
	}
	resp := c.toAPI()
	s.mu.Unlock()
	if status != "" {
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "simulator call hung up by api",
			slog.String("sid", c.SID), slog.String("status", status))
	}
	writeJSON(w, http.StatusOK, resp)
}

// listCalls serves GET Calls.json, filtered by To, From and Status.
func (s *Simulator) listCalls(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	to, from, status := r.Form.Get("To"), r.Form.Get("From"), r.Form.Get("Status")
	out := []apiCall{}
	s.mu.Lock()
	for i := len(s.calls) - 1; i >= 0; i-- {
		c := s.calls[i]
		if c.account != accountOf(r) || (to != "" && c.To != to) || (from != "" && c.From != from) ||
			(status != "" && c.Status != status) {
			continue
		}
		out = append(out, c.toAPI())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		listPage
		Calls []apiCall `json:"calls"`
	}{newListPage(r, len(out)), out})
}

// runCall plays a call from dialing to hanging up, as the called phone's
// behaviour says, posting status callbacks along the way.
func (s *Simulator) runCall(ctx context.Context, c *call) {
	b := s.behaviour(c.To)
	if b.Answer == AnswerFail {
		s.endCall(ctx, c, "failed")
		return
	}
	if !s.advanceCall(ctx, c, "initiated", "initiated") {
		s.endCall(ctx, c, "")
		return
	}
	if b.Answer == AnswerBusy {
		s.endCall(ctx, c, "busy")
		return
	}
	if !s.advanceCall(ctx, c, "ringing", "ringing") {
		s.endCall(ctx, c, "")
		return
	}
	ring, outcome := b.RingDelay, ""
	switch {
	case b.Answer == AnswerNoAnswer:
		outcome = "no-answer"
	case b.Answer == AnswerPerson:
		// It rings until the person answers, or for as long as Klaxon
		// lets it ring.
		s.mu.Lock()
		c.live = true
		s.notifyLocked()
		s.mu.Unlock()
		ring, outcome = c.timeout, "no-answer"
	}
	if ring > c.timeout {
		ring, outcome = c.timeout, "no-answer"
	}
	if ring > 0 {
		t := time.NewTimer(ring)
		select {
		case <-t.C:
		case <-c.pickUp:
			t.Stop()
			outcome = ""
		case <-c.hangup:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
	if outcome != "" {
		s.endCall(ctx, c, outcome)
		return
	}

	machine := b.Answer == AnswerMachine
	s.mu.Lock()
	if !c.hungUp {
		c.answered = time.Now().UTC()
		switch {
		case c.machineDetection == "":
		case !machine:
			c.AnsweredBy = "human"
		case c.machineDetection == "DetectMessageEnd":
			c.AnsweredBy = "machine_end_beep"
		default:
			c.AnsweredBy = "machine_start"
		}
	}
	s.mu.Unlock()
	if !s.advanceCall(ctx, c, "answered", "in-progress") {
		s.endCall(ctx, c, "")
		return
	}
	press := b.Press
	if machine || c.live {
		press = ""
	}
	v := &voiceSession{s: s, c: c, press: press}
	v.run(ctx)
	s.endCall(ctx, c, "completed")
}

// Errors of the live-call controls.
var (
	// ErrNoCall means no call has that SID.
	ErrNoCall = errors.New("no such call")
	// ErrCallEnded means the call has already ended.
	ErrCallEnded = errors.New("the call has ended")
	// ErrNotRinging means the call is not waiting for a person to answer.
	ErrNotRinging = errors.New("the call is not ringing for a person to answer")
	// ErrNotLive means the call is not one a person follows, so nobody is
	// there to press keys (set the phone to answer as a person first).
	ErrNotLive = errors.New("the call is not answered by a person")
	// ErrKeypadFull means keys were pressed faster than the call reads them.
	ErrKeypadFull = errors.New("too many keys pressed at once")
)

// liveCall finds the call sid names that is still going. s.mu must be held.
func (s *Simulator) liveCallLocked(sid string) (*call, error) {
	c := s.callBySID[sid]
	switch {
	case c == nil:
		return nil, ErrNoCall
	case c.finished || c.hungUp || finalCallStatus(c.Status):
		return nil, ErrCallEnded
	}
	return c, nil
}

// Answer picks up a call that is ringing on a phone set to answer as a
// person (AnswerPerson).
func (s *Simulator) Answer(sid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.liveCallLocked(sid)
	if err != nil {
		return fmt.Errorf("answer: %w", err)
	}
	if !c.live || c.Status != "ringing" {
		return fmt.Errorf("answer: %w", ErrNotRinging)
	}
	select {
	case <-c.pickUp:
		return fmt.Errorf("answer: %w", ErrNotRinging) // answered already
	default:
		close(c.pickUp)
	}
	return nil
}

// Press types digits (0-9, * and #) on the keypad of a live call: the menu
// it is at, or the next one, reads them.
func (s *Simulator) Press(sid, digits string) error {
	if digits == "" || len(digits) > 32 || !validKeys(digits) {
		return errors.New("press: keys are the digits 0-9, * and #")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.liveCallLocked(sid)
	if err != nil {
		return fmt.Errorf("press: %w", err)
	}
	if !c.live {
		return fmt.Errorf("press: %w", ErrNotLive)
	}
	select {
	case c.keys <- digits:
		return nil
	default:
		return fmt.Errorf("press: %w", ErrKeypadFull)
	}
}

// HangUp ends a live call from the phone's side, as a person putting the
// phone down: a call still ringing is declined (no-answer), an answered one
// ends completed.
func (s *Simulator) HangUp(sid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.liveCallLocked(sid)
	if err != nil {
		return fmt.Errorf("hang up: %w", err)
	}
	if !c.live {
		return fmt.Errorf("hang up: %w", ErrNotLive)
	}
	c.hungUp = true
	if c.Status == "in-progress" {
		c.Status = "completed"
	} else {
		c.Status = "no-answer"
	}
	c.updated = time.Now().UTC()
	close(c.hangup)
	s.notifyLocked()
	return nil
}

// LiveCalls returns the calls a person is following now, oldest first.
func (s *Simulator) LiveCalls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if c.live && !c.finished {
			out = append(out, c.snapshot())
		}
	}
	return out
}

// params are the fields of every request Twilio makes about a call.
// s.mu must be held.
func (c *call) params(status string) url.Values {
	p := url.Values{
		"CallSid":    {c.SID},
		"AccountSid": {c.account},
		"From":       {c.From},
		"To":         {c.To},
		"Caller":     {c.From},
		"Called":     {c.To},
		"CallStatus": {status},
		"Direction":  {c.Direction},
		"ApiVersion": {apiVersion},
	}
	if c.AnsweredBy != "" {
		p.Set("AnsweredBy", c.AnsweredBy)
	}
	return p
}

// statusParams are the fields of a call status callback. s.mu must be held.
func (c *call) statusParams(status string) url.Values {
	p := c.params(status)
	p.Set("CallbackSource", "call-progress-events")
	p.Set("SequenceNumber", strconv.Itoa(c.seq))
	p.Set("Timestamp", time.Now().UTC().Format(twilioTime))
	c.seq++
	return p
}

// advanceCall moves a call that has not been hung up to status and posts
// the event's callback if it was asked for. It reports false, changing
// nothing, when the call was hung up.
func (s *Simulator) advanceCall(ctx context.Context, c *call, event, status string) bool {
	s.mu.Lock()
	if c.hungUp || ctx.Err() != nil {
		s.mu.Unlock()
		return false
	}
	c.Status = status
	c.updated = time.Now().UTC()
	if event == "initiated" {
		c.started = c.updated
	}
	var params url.Values
	if c.events[event] && c.statusCallback != "" {
		params = c.statusParams(status)
	}
	s.notifyLocked()
	s.mu.Unlock()
	if params != nil {
		s.callback(ctx, c.statusCallback, c.statusCallbackMethod, params, "call")
	}
	return true
}

// endCall records the call's final status (the hang-up's, if the REST API
// hung it up; else status), posts the "completed" callback that Twilio
// always sends, and marks the call finished.
func (s *Simulator) endCall(ctx context.Context, c *call, status string) {
	s.mu.Lock()
	if c.hungUp || status == "" {
		status = c.Status
	}
	c.Status = status
	c.ended = time.Now().UTC()
	c.updated = c.ended
	var params url.Values
	if c.statusCallback != "" {
		params = c.statusParams(status)
		d := c.duration()
		params.Set("CallDuration", strconv.Itoa(d))
		params.Set("Duration", strconv.Itoa((d+59)/60))
	}
	s.notifyLocked()
	s.mu.Unlock()
	if params != nil && ctx.Err() == nil {
		s.callback(ctx, c.statusCallback, c.statusCallbackMethod, params, "call")
	}
	s.mu.Lock()
	c.finished = true
	s.notifyLocked()
	s.mu.Unlock()
	s.log.LogAttrs(ctx, slog.LevelInfo, "simulator call ended",
		slog.String("sid", c.SID), slog.String("status", status))
}
