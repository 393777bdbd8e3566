// Package twilio is Klaxon's SMS, voice and phone-number gateway to Twilio's
// REST API (or any server that speaks it, such as Klaxon's phone simulator).
// It is the one edge where Twilio's answers are classified: every failure
// comes back as a *klaxon.DeliveryError that says whether a retry can help.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/phone"
	"github.com/klaxonhq/klaxon/redact"
)

// Defaults for Config.
const (
	DefaultAPIURL  = "https://api.twilio.com"
	DefaultTimeout = 10 * time.Second
)

// Webhook paths, relative to Config.PublicURL, that Klaxon hands to Twilio.
const (
	PathSMS         = "/twilio/sms"
	PathSMSStatus   = "/twilio/sms/status"
	PathVoice       = "/twilio/voice"
	PathVoiceStatus = "/twilio/voice/status"
)

// callTimeout is how long, in seconds, an outbound call rings before Twilio
// gives up with no-answer.
const callTimeout = 30

// codeCallNotInProgress is Twilio's answer to updating a call that has
// already ended.
const codeCallNotInProgress = 21220

// Config is what a Client needs to reach Twilio and to tell Twilio where
// Klaxon's webhooks are.
type Config struct {
	// AccountSID and AuthToken are the Twilio credentials.
	AccountSID, AuthToken string
	// APIURL is the base URL of every REST call (KLAXON_TWILIO_API_URL);
	// empty means DefaultAPIURL.
	APIURL string
	// PublicURL is where Twilio reaches Klaxon (KLAXON_PUBLIC_URL); webhook
	// URLs handed to Twilio are built from it.
	PublicURL string
	// From is the sending number used when a message names none
	// (KLAXON_FROM_NUMBER); optional.
	From string
	// Timeout bounds each HTTP request; zero means DefaultTimeout.
	Timeout time.Duration
}

// Client sends SMS, places and cancels calls, and buys numbers through
// Twilio. It is safe for concurrent use.
type Client struct {
	sid, token string
	from       string
	public     string
	timeout    time.Duration
	transport  *http.Transport
	rewrite    http.RoundTripper
}

// New validates cfg and returns a Client for it.
func New(cfg Config) (*Client, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" {
		return nil, errors.New("twilio: account SID and auth token are required")
	}
	// twilio-go refuses credentials with other characters at request time;
	// say so now instead.
	if !alphanumeric(cfg.AccountSID) || !alphanumeric(cfg.AuthToken) {
		return nil, errors.New("twilio: account SID and auth token must be letters and digits only")
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	api, err := parseBaseURL(cfg.APIURL)
	if err != nil {
		return nil, fmt.Errorf("twilio: API URL: %w", err)
	}
	public, err := parseBaseURL(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("twilio: public URL: %w", err)
	}
	if cfg.From != "" && !phone.IsE164(cfg.From) {
		return nil, fmt.Errorf("twilio: from number %s is not in E.164 form", redact.Number(cfg.From))
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("twilio: timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	return &Client{
		sid:       cfg.AccountSID,
		token:     cfg.AuthToken,
		from:      cfg.From,
		public:    strings.TrimSuffix(public.String(), "/"),
		timeout:   cfg.Timeout,
		transport: tr,
		rewrite:   newRewriter(api, tr),
	}, nil
}

// Close releases idle connections.
func (c *Client) Close() error {
	c.transport.CloseIdleConnections()
	return nil
}

// api returns a twilio-go API service whose requests go to the configured
// base URL under ctx, and the exchange that records their HTTP status.
// twilio-go has no context-aware calls, so each operation gets its own
// (cheap) client around the shared transport.
func (c *Client) api(ctx context.Context) (*twapi.ApiService, *exchange) {
	ex := &exchange{ctx: ctx, next: c.rewrite}
	tc := &twclient.Client{
		Credentials: twclient.NewCredentials(c.sid, c.token),
		HTTPClient: &http.Client{
			Transport:     ex,
			Timeout:       c.timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	tc.SetAccountSid(c.sid)
	return twapi.NewApiService(&twclient.RequestHandler{Client: tc}), ex
}

// SendSMS sends m.Body to m.To from m.From (or the configured number).
// Status callbacks go to PublicURL + PathSMSStatus.
func (c *Client) SendSMS(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	const op = "send sms"
	from, err := c.endpoints(op, m)
	if err != nil {
		return klaxon.Receipt{}, err
	}
	params := &twapi.CreateMessageParams{}
	params.SetTo(m.To).SetFrom(from).SetBody(m.Body).SetStatusCallback(c.public + PathSMSStatus)
	api, ex := c.api(ctx)
	msg, err := api.CreateMessage(params)
	if err != nil {
		return klaxon.Receipt{}, classify(op, err, ex.status)
	}
	return receipt(op, msg.Sid, msg.Status, ex.status)
}

// FindSMS lists the texts among the newest from m.From (or the configured
// number) to m.To that carry m.Body and that Twilio created at or after
// since, newest first: candidates for the send of an earlier attempt whose
// answer was lost with its worker. Only the newest page (50 texts) is
// searched.
func (c *Client) FindSMS(ctx context.Context, m klaxon.Message, since time.Time) ([]klaxon.Receipt, error) {
	const op = "find sms"
	from, err := c.endpoints(op, m)
	if err != nil {
		return nil, err
	}
	params := &twapi.ListMessageParams{}
	params.SetTo(m.To).SetFrom(from).SetPageSize(50)
	api, ex := c.api(ctx)
	page, err := api.PageMessage(params, "", "")
	if err != nil {
		return nil, classify(op, err, ex.status)
	}
	// Twilio's clock and ours may differ by a little.
	since = since.Add(-clockSkew)
	var found []klaxon.Receipt
	for _, msg := range page.Messages {
		if msg.Body == nil || *msg.Body != m.Body || msg.DateCreated == nil {
			continue
		}
		created, err := time.Parse(time.RFC1123Z, *msg.DateCreated)
		if err != nil || created.Before(since) {
			continue
		}
		if r, err := receipt(op, msg.Sid, msg.Status, ex.status); err == nil {
			found = append(found, r)
		}
	}
	return found, nil
}

// clockSkew is how far Twilio's timestamps may run behind ours.
const clockSkew = time.Minute

// Call rings m.To from m.From (or the configured number). When the call is
// answered Twilio fetches its TwiML from PublicURL + PathVoice + "?m=" + the
// message ID, so the gateway can render it then (and say a page is already
// acknowledged). Status callbacks go to PublicURL + PathVoiceStatus.
func (c *Client) Call(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	const op = "place call"
	from, err := c.endpoints(op, m)
	if err != nil {
		return klaxon.Receipt{}, err
	}
	if m.ID == "" {
		return klaxon.Receipt{}, invalid("InvalidRequest", op, "the message has no ID")
	}
	params := &twapi.CreateCallParams{}
	params.SetTo(m.To).SetFrom(from).
		SetUrl(c.public + PathVoice + "?m=" + url.QueryEscape(m.ID)).
		SetMethod(http.MethodPost).
		SetStatusCallback(c.public + PathVoiceStatus).
		SetStatusCallbackMethod(http.MethodPost).
		SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"}).
		SetMachineDetection("Enable").
		SetTimeout(callTimeout)
	api, ex := c.api(ctx)
	call, err := api.CreateCall(params)
	if err != nil {
		return klaxon.Receipt{}, classify(op, err, ex.status)
	}
	return receipt(op, call.Sid, call.Status, ex.status)
}

// CancelCall ends a call: it hangs up one in progress and cancels one still
// queued or ringing. A call that has already ended is not an error.
func (c *Client) CancelCall(ctx context.Context, callSID string) error {
	const op = "cancel call"
	if callSID == "" {
		return invalid("InvalidRequest", op, "no call SID given")
	}
	params := &twapi.UpdateCallParams{}
	params.SetStatus("completed")
	api, ex := c.api(ctx)
	if _, err := api.UpdateCall(callSID, params); err != nil {
		var rest *twclient.TwilioRestError
		if errors.As(err, &rest) && rest.Code == codeCallNotInProgress {
			return nil
		}
		return classify(op, err, ex.status)
	}
	return nil
}

// AvailableNumbers lists up to n local numbers, in E.164, that can be bought
// in country (ISO 3166, e.g. "US"; empty means "US"), within areaCode if it
// is not empty.
func (c *Client) AvailableNumbers(ctx context.Context, country, areaCode string, n int) ([]string, error) {
	const op = "list available numbers"
	if country == "" {
		country = "US"
	}
	country = strings.ToUpper(country)
	if len(country) != 2 || !letters(country) {
		return nil, invalid("InvalidRequest", op, fmt.Sprintf("%q is not a two-letter country code", country))
	}
	if n < 1 {
		return nil, invalid("InvalidRequest", op, "at least one number must be asked for")
	}
	params := &twapi.ListAvailablePhoneNumberLocalParams{}
	params.SetPageSize(n).SetSmsEnabled(true).SetVoiceEnabled(true)
	if areaCode != "" {
		ac, err := strconv.Atoi(areaCode)
		if err != nil || ac <= 0 || len(areaCode) > 5 {
			return nil, invalid("InvalidRequest", op, fmt.Sprintf("%q is not an area code", areaCode))
		}
		params.SetAreaCode(ac)
	}
	api, ex := c.api(ctx)
	page, err := api.PageAvailablePhoneNumberLocal(country, params, "", "")
	if err != nil {
		return nil, classify(op, err, ex.status)
	}
	numbers := make([]string, 0, min(n, len(page.AvailablePhoneNumbers)))
	for _, a := range page.AvailablePhoneNumbers {
		if a.PhoneNumber == nil || *a.PhoneNumber == "" {
			continue
		}
		numbers = append(numbers, *a.PhoneNumber)
		if len(numbers) == n {
			break
		}
	}
	return numbers, nil
}

// BuyNumber buys number (E.164) for the account and points its SMS and
// voice webhooks at Klaxon. It returns the number's SID.
func (c *Client) BuyNumber(ctx context.Context, number string) (sid string, err error) {
	const op = "buy number"
	if !phone.IsE164(number) {
		return "", invalid("InvalidNumber", op, fmt.Sprintf("%s is not an E.164 number", redact.Number(number)))
	}
	params := &twapi.CreateIncomingPhoneNumberParams{}
	params.SetPhoneNumber(number).
		SetSmsUrl(c.public + PathSMS).SetSmsMethod(http.MethodPost).
		SetVoiceUrl(c.public + PathVoice).SetVoiceMethod(http.MethodPost)
	api, ex := c.api(ctx)
	in, err := api.CreateIncomingPhoneNumber(params)
	if err != nil {
		return "", classify(op, err, ex.status)
	}
	if in.Sid == nil || *in.Sid == "" {
		return "", &klaxon.DeliveryError{Kind: "ProviderUnavailable", Code: "http " + strconv.Itoa(ex.status), Reason: op + ": response has no sid"}
	}
	return *in.Sid, nil
}

// SMS returns the SMS provider: SendSMS behind the one Send method that
// Klaxon's delivery activities call.
func (c *Client) SMS() *SMSProvider { return &SMSProvider{c: c} }

// Voice returns the voice provider: Call behind the one Send method that
// Klaxon's delivery activities call.
func (c *Client) Voice() *VoiceProvider { return &VoiceProvider{c: c} }

// SMSProvider sends messages as SMS.
type SMSProvider struct{ c *Client }

// Send sends m as an SMS.
func (p *SMSProvider) Send(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	return p.c.SendSMS(ctx, m)
}

// FindSent lists the texts like m that Twilio took at or after since.
func (p *SMSProvider) FindSent(ctx context.Context, m klaxon.Message, since time.Time) ([]klaxon.Receipt, error) {
	return p.c.FindSMS(ctx, m, since)
}

// VoiceProvider delivers messages by phone call.
type VoiceProvider struct{ c *Client }

// Send places a call that reads m out when answered.
func (p *VoiceProvider) Send(ctx context.Context, m klaxon.Message) (klaxon.Receipt, error) {
	return p.c.Call(ctx, m)
}

// endpoints checks m's numbers and returns the sending number.
func (c *Client) endpoints(op string, m klaxon.Message) (from string, err error) {
	if !phone.IsE164(m.To) {
		return "", invalid("InvalidNumber", op, fmt.Sprintf("recipient %s is not an E.164 number", redact.Number(m.To)))
	}
	from = m.From
	if from == "" {
		from = c.from
	}
	if from == "" {
		return "", invalid("InvalidRequest", op, "no sending number: the message names none and none is configured")
	}
	if !phone.IsE164(from) {
		return "", invalid("InvalidNumber", op, fmt.Sprintf("sender %s is not an E.164 number", redact.Number(from)))
	}
	return from, nil
}

// receipt builds the receipt of an accepted message or call.
func receipt(op string, sid, status *string, httpStatus int) (klaxon.Receipt, error) {
	if sid == nil || *sid == "" {
		return klaxon.Receipt{}, &klaxon.DeliveryError{Kind: "ProviderUnavailable", Code: "http " + strconv.Itoa(httpStatus), Reason: op + ": response has no sid"}
	}
	r := klaxon.Receipt{ProviderID: *sid, Status: klaxon.StatusQueued}
	if status != nil && *status != "" {
		r.Status = *status
	}
	return r, nil
}

// parseBaseURL accepts an absolute http or https URL.
func parseBaseURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q must not have a query or fragment", raw)
	}
	return u, nil
}

func alphanumeric(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return false
		}
	}
	return true
}

func letters(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
