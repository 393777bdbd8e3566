package simulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/phone"
)

// Handler returns the simulator's HTTP handler: Twilio's REST API under
// /2010-04-01/, the JSON control API under /sim/api/, and the HTML page at
// /. The control API and the page have no authentication: serve them only
// where the people and tests that drive the phones can reach them.
func (s *Simulator) Handler() http.Handler {
	api := http.NewServeMux()
	s.restRoutes(api)
	sim := http.NewServeMux()
	s.controlRoutes(sim)

	mux := http.NewServeMux()
	mux.Handle(restPrefix, s.rest(api))
	// Browsers may not drive the phones from other sites' pages.
	mux.Handle("/sim/", http.NewCrossOriginProtection().Handler(sim))
	mux.HandleFunc("GET /{$}", s.servePage)
	return mux
}

// controlRoutes registers the control API and the page's form targets.
func (s *Simulator) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /sim/api/messages", s.apiMessages)
	mux.HandleFunc("GET /sim/api/calls", s.apiCalls)
	mux.HandleFunc("POST /sim/api/sms", s.apiSMS)
	mux.HandleFunc("GET /sim/api/behaviour", s.apiGetBehaviour)
	mux.HandleFunc("POST /sim/api/behaviour", s.apiSetBehaviour)
	mux.HandleFunc("GET /sim/api/numbers", s.apiNumbers)
	mux.HandleFunc("POST /sim/api/numbers", s.apiAddNumber)
	mux.HandleFunc("POST /sim/api/fail", s.apiFail)
	mux.HandleFunc("POST /sim/api/calls", s.apiDial)
	mux.HandleFunc("POST /sim/api/calls/{sid}/{action}", s.apiCallAction)
	mux.HandleFunc("POST /sim/ui/sms", s.formSMS)
	mux.HandleFunc("POST /sim/ui/behaviour", s.formBehaviour)
	mux.HandleFunc("POST /sim/ui/dial", s.formDial)
	mux.HandleFunc("POST /sim/ui/calls/{sid}/{action}", s.formCallAction)
	mux.HandleFunc("/sim/", func(w http.ResponseWriter, r *http.Request) {
		writeControlError(w, http.StatusNotFound, "No such simulator route.")
	})
}

// maxControlBody bounds a control API request.
const maxControlBody = 64 << 10

// writeControlError answers a control API error as {"error": "..."}.
func writeControlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// decodeControl decodes a control API request body into v.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxControlBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeControlError(w, http.StatusBadRequest, "The request body is not valid JSON for this route.")
		return false
	}
	return true
}

// apiMessages serves GET /sim/api/messages?number=N: every message to or
// from N (all messages without number), oldest first.
func (s *Simulator) apiMessages(w http.ResponseWriter, r *http.Request) {
	number := r.URL.Query().Get("number")
	out := []Message{}
	s.mu.Lock()
	for _, m := range s.messages {
		if number == "" || m.To == number || m.From == number {
			out = append(out, m.Message)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// apiCalls serves GET /sim/api/calls?number=N: every call to or from N
// (all calls without number), oldest first.
func (s *Simulator) apiCalls(w http.ResponseWriter, r *http.Request) {
	number := r.URL.Query().Get("number")
	out := []Call{}
	s.mu.Lock()
	for _, c := range s.calls {
		if number == "" || c.To == number || c.From == number {
			out = append(out, c.snapshot())
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// smsRequest is the body of POST /sim/api/sms.
type smsRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
	Body string `json:"body"`
}

// apiSMS serves POST /sim/api/sms: a phone texts Klaxon, as SendSMS.
func (s *Simulator) apiSMS(w http.ResponseWriter, r *http.Request) {
	var req smsRequest
	if !decodeControl(w, r, &req) {
		return
	}
	sid, status, msg := s.controlSMS(r, req)
	if msg != "" {
		writeControlError(w, status, msg)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"sid": sid})
}

// controlSMS sends a text for the control API or the page. On failure it
// returns an HTTP status and a sentence for the user.
func (s *Simulator) controlSMS(r *http.Request, req smsRequest) (sid string, status int, msg string) {
	from, err := phone.Normalize(req.From, "US")
	if err != nil {
		return "", http.StatusBadRequest, "from: " + err.Error()
	}
	to, err := phone.Normalize(req.To, "US")
	if err != nil {
		return "", http.StatusBadRequest, "to: " + err.Error()
	}
	sid, err = s.SendSMS(r.Context(), from, to, req.Body)
	var werr *webhookError
	switch {
	case errors.Is(err, ErrNoWebhook):
		return "", http.StatusConflict, "Nobody receives texts to that number: it has no SmsUrl and the simulator has no inbound URL."
	case errors.As(err, &werr):
		return sid, http.StatusBadGateway, fmt.Sprintf("Klaxon's webhook answered HTTP %d.", werr.status)
	case err != nil && sid != "":
		return sid, http.StatusBadGateway, "Klaxon's webhook could not be reached."
	case err != nil:
		return "", http.StatusBadRequest, "The text could not be sent."
	}
	return sid, http.StatusOK, ""
}

// behaviourJSON is a phone's behaviour in the control API.
type behaviourJSON struct {
	Number    string `json:"number"`
	Answer    string `json:"answer,omitempty"`
	Press     string `json:"press,omitempty"`
	SMSStatus string `json:"sms_status,omitempty"`
	// RingDelay is a Go duration such as "3s".
	RingDelay string `json:"ring_delay,omitempty"`
}

// maxRingDelay bounds a configured ring delay.
const maxRingDelay = 10 * time.Minute

// parseBehaviour validates a behaviour from the control API or the page.
func parseBehaviour(in behaviourJSON) (string, Behaviour, error) {
	number, err := phone.Normalize(in.Number, "US")
	if err != nil {
		return "", Behaviour{}, err
	}
	b := Behaviour{Answer: in.Answer, Press: strings.TrimSpace(in.Press), SMSStatus: in.SMSStatus}
	switch b.Answer {
	case "", AnswerHuman, AnswerPerson, AnswerMachine, AnswerNoAnswer, AnswerBusy, AnswerFail:
	default:
		return "", Behaviour{}, errors.New("answer must be person, human (auto-answer), machine, no-answer, busy or fail")
	}
	switch b.SMSStatus {
	case "", "delivered", "undelivered", "failed":
	default:
		return "", Behaviour{}, errors.New("sms_status must be delivered, undelivered or failed")
	}
	if strings.Trim(b.Press, "0123456789*#w") != "" {
		return "", Behaviour{}, errors.New("press may hold only the keys 0-9, * and #")
	}
	if in.RingDelay != "" {
		d, err := time.ParseDuration(in.RingDelay)
		if err != nil || d < 0 || d > maxRingDelay {
			return "", Behaviour{}, errors.New("ring_delay must be a duration such as 3s, at most 10m")
		}
		b.RingDelay = d
	}
	return number, b, nil
}

// toBehaviourJSON renders a phone's behaviour for the control API.
func toBehaviourJSON(number string, b Behaviour) behaviourJSON {
	out := behaviourJSON{Number: number, Answer: b.Answer, Press: b.Press, SMSStatus: b.SMSStatus}
	if b.RingDelay > 0 {
		out.RingDelay = b.RingDelay.String()
	}
	return out
}

// apiGetBehaviour serves GET /sim/api/behaviour?number=N, defaults filled.
func (s *Simulator) apiGetBehaviour(w http.ResponseWriter, r *http.Request) {
	number := r.URL.Query().Get("number")
	if number == "" {
		writeControlError(w, http.StatusBadRequest, "A number is required.")
		return
	}
	writeJSON(w, http.StatusOK, toBehaviourJSON(number, s.behaviour(number)))
}

// apiSetBehaviour serves POST /sim/api/behaviour.
func (s *Simulator) apiSetBehaviour(w http.ResponseWriter, r *http.Request) {
	var in behaviourJSON
	if !decodeControl(w, r, &in) {
		return
	}
	number, b, err := parseBehaviour(in)
	if err != nil {
		writeControlError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.SetBehaviour(number, b)
	writeJSON(w, http.StatusOK, toBehaviourJSON(number, s.behaviour(number)))
}

// numberJSON is an owned number in the control API.
type numberJSON struct {
	Number string `json:"number"`
	SID    string `json:"sid,omitempty"`
	SMSURL string `json:"sms_url,omitempty"`
}

// apiNumbers serves GET /sim/api/numbers: the numbers Klaxon owns.
func (s *Simulator) apiNumbers(w http.ResponseWriter, r *http.Request) {
	out := []numberJSON{}
	s.mu.Lock()
	for _, n := range s.numbers {
		out = append(out, numberJSON{Number: n.phone, SID: n.sid, SMSURL: n.smsURL})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// apiAddNumber serves POST /sim/api/numbers, as AddIncomingNumber.
func (s *Simulator) apiAddNumber(w http.ResponseWriter, r *http.Request) {
	var in numberJSON
	if !decodeControl(w, r, &in) {
		return
	}
	number, err := phone.Normalize(in.Number, "US")
	if err != nil {
		writeControlError(w, http.StatusBadRequest, err.Error())
		return
	}
	if in.SMSURL != "" && !absoluteHTTP(in.SMSURL) {
		writeControlError(w, http.StatusBadRequest, "sms_url must be an absolute http or https URL.")
		return
	}
	s.AddIncomingNumber(number, in.SMSURL)
	s.mu.Lock()
	n := s.numberByPhoneLocked(number)
	out := numberJSON{Number: n.phone, SID: n.sid, SMSURL: n.smsURL}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// failJSON is the body of POST /sim/api/fail.
type failJSON struct {
	Count      int `json:"count"`
	HTTPStatus int `json:"http_status"`
	Code       int `json:"code"`
}

// apiFail serves POST /sim/api/fail, as FailNext.
func (s *Simulator) apiFail(w http.ResponseWriter, r *http.Request) {
	var in failJSON
	if !decodeControl(w, r, &in) {
		return
	}
	if in.Count <= 0 || in.HTTPStatus < 0 || (in.HTTPStatus != 0 && (in.HTTPStatus < 400 || in.HTTPStatus > 599)) {
		writeControlError(w, http.StatusBadRequest, "count must be positive and http_status 0 or 400-599.")
		return
	}
	s.FailNext(in.Count, in.HTTPStatus, in.Code)
	writeJSON(w, http.StatusOK, in)
}

// dialRequest is the body of POST /sim/api/calls.
type dialRequest struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Press []string `json:"press,omitempty"`
}

// apiDial serves POST /sim/api/calls: a phone calls Klaxon, as Dial.
func (s *Simulator) apiDial(w http.ResponseWriter, r *http.Request) {
	var req dialRequest
	if !decodeControl(w, r, &req) {
		return
	}
	sid, err := s.Dial(strings.TrimSpace(req.From), strings.TrimSpace(req.To), DialOptions{Press: req.Press})
	if err != nil {
		writeControlError(w, http.StatusBadRequest, sentence(err))
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"sid": sid})
}

// pressRequest is the body of POST /sim/api/calls/{sid}/press.
type pressRequest struct {
	Digits string `json:"digits"`
}

// apiCallAction serves POST /sim/api/calls/{sid}/answer, …/press and
// …/hangup: a person on a live call.
func (s *Simulator) apiCallAction(w http.ResponseWriter, r *http.Request) {
	var req pressRequest
	if r.PathValue("action") == "press" && !decodeControl(w, r, &req) {
		return
	}
	status, err := s.callAction(r.PathValue("sid"), r.PathValue("action"), req.Digits)
	if err != nil {
		writeControlError(w, status, sentence(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"sid": r.PathValue("sid")})
}

// callAction applies a person's action on a live call and, on failure,
// returns the HTTP status that fits.
func (s *Simulator) callAction(sid, action, digits string) (int, error) {
	var err error
	switch action {
	case "answer":
		err = s.Answer(sid)
	case "press":
		err = s.Press(sid, digits)
	case "hangup":
		err = s.HangUp(sid)
	default:
		return http.StatusNotFound, errors.New("no such call action: use answer, press or hangup")
	}
	switch {
	case err == nil:
		return http.StatusOK, nil
	case errors.Is(err, ErrNoCall):
		return http.StatusNotFound, err
	case errors.Is(err, ErrCallEnded), errors.Is(err, ErrNotRinging), errors.Is(err, ErrNotLive):
		return http.StatusConflict, err
	default:
		return http.StatusBadRequest, err
	}
}

// sentence makes an error a sentence for a person: capitalised, with a full
// stop.
func sentence(err error) string {
	msg := err.Error()
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
