package simulator

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/klaxonhq/klaxon/phone"
)

// owned is a phone number Klaxon owns (an IncomingPhoneNumber).
type owned struct {
	sid, account, phone, friendlyName string
	smsURL, smsMethod                 string
	voiceURL, voiceMethod             string
	statusCallback                    string
	statusCallbackMethod              string
	created, updated                  time.Time
}

// apiCapabilities are a number's capabilities as Twilio shows them.
type apiCapabilities struct {
	Voice bool `json:"voice"`
	SMS   bool `json:"sms"`
	MMS   bool `json:"mms"`
	Fax   bool `json:"fax"`
}

// apiIncomingNumber is Twilio's JSON for an IncomingPhoneNumber.
type apiIncomingNumber struct {
	AccountSID           string          `json:"account_sid"`
	AddressRequirements  string          `json:"address_requirements"`
	AddressSID           *string         `json:"address_sid"`
	APIVersion           string          `json:"api_version"`
	Beta                 bool            `json:"beta"`
	BundleSID            *string         `json:"bundle_sid"`
	Capabilities         apiCapabilities `json:"capabilities"`
	DateCreated          *string         `json:"date_created"`
	DateUpdated          *string         `json:"date_updated"`
	EmergencyStatus      string          `json:"emergency_status"`
	FriendlyName         string          `json:"friendly_name"`
	IdentitySID          *string         `json:"identity_sid"`
	Origin               string          `json:"origin"`
	PhoneNumber          string          `json:"phone_number"`
	SID                  string          `json:"sid"`
	SMSApplicationSID    string          `json:"sms_application_sid"`
	SMSFallbackMethod    string          `json:"sms_fallback_method"`
	SMSFallbackURL       string          `json:"sms_fallback_url"`
	SMSMethod            string          `json:"sms_method"`
	SMSURL               string          `json:"sms_url"`
	Status               string          `json:"status"`
	StatusCallback       string          `json:"status_callback"`
	StatusCallbackMethod string          `json:"status_callback_method"`
	TrunkSID             *string         `json:"trunk_sid"`
	URI                  string          `json:"uri"`
	VoiceApplicationSID  string          `json:"voice_application_sid"`
	VoiceCallerIDLookup  bool            `json:"voice_caller_id_lookup"`
	VoiceFallbackMethod  string          `json:"voice_fallback_method"`
	VoiceFallbackURL     string          `json:"voice_fallback_url"`
	VoiceMethod          string          `json:"voice_method"`
	VoiceReceiveMode     string          `json:"voice_receive_mode"`
	VoiceURL             string          `json:"voice_url"`
}

// orPost returns method, or POST when it is empty.
func orPost(method string) string {
	if method == "" {
		return http.MethodPost
	}
	return strings.ToUpper(method)
}

// toAPI renders n as Twilio does. s.mu must be held.
func (n *owned) toAPI() apiIncomingNumber {
	return apiIncomingNumber{
		AccountSID:           n.account,
		AddressRequirements:  "none",
		APIVersion:           apiVersion,
		Capabilities:         apiCapabilities{Voice: true, SMS: true, MMS: true},
		DateCreated:          formatTime(n.created),
		DateUpdated:          formatTime(n.updated),
		EmergencyStatus:      "Inactive",
		FriendlyName:         n.friendlyName,
		Origin:               "twilio",
		PhoneNumber:          n.phone,
		SID:                  n.sid,
		SMSFallbackMethod:    http.MethodPost,
		SMSMethod:            orPost(n.smsMethod),
		SMSURL:               n.smsURL,
		Status:               "in-use",
		StatusCallback:       n.statusCallback,
		StatusCallbackMethod: orPost(n.statusCallbackMethod),
		URI:                  resourceURI(n.account, "IncomingPhoneNumbers", n.sid),
		VoiceFallbackMethod:  http.MethodPost,
		VoiceMethod:          orPost(n.voiceMethod),
		VoiceReceiveMode:     "voice",
		VoiceURL:             n.voiceURL,
	}
}

// numberByPhoneLocked returns the owned number, or nil. s.mu must be held.
func (s *Simulator) numberByPhoneLocked(p string) *owned {
	for _, n := range s.numbers {
		if n.phone == p {
			return n
		}
	}
	return nil
}

// addNumberLocked records a bought number, filling in what is missing.
// s.mu must be held.
func (s *Simulator) addNumberLocked(n *owned) {
	now := time.Now().UTC()
	if n.sid == "" {
		n.sid = newID("PN")
	}
	if n.account == "" {
		n.account = s.cfg.AccountSID
	}
	if n.friendlyName == "" {
		n.friendlyName = formatNumber(n.phone)
	}
	n.created, n.updated = now, now
	s.numbers = append(s.numbers, n)
	s.notifyLocked()
}

// The area codes offered when a search names none.
var defaultAreaCodes = map[string]string{"US": "415", "CA": "604"}

// availableLocked returns up to limit numbers in the area code that nobody owns:
// +1 AAA 555-01XX, the range reserved for fiction, in order. s.mu must be
// held.
func (s *Simulator) availableLocked(areaCode string, limit int) []string {
	var out []string
	for i := 0; i < 100 && len(out) < limit; i++ {
		p := fmt.Sprintf("+1%s55501%02d", areaCode, i)
		if s.numberByPhoneLocked(p) == nil {
			out = append(out, p)
		}
	}
	return out
}

// validAreaCode reports whether ac is a North American area code: three
// digits, the first not 0 or 1.
func validAreaCode(ac string) bool {
	return len(ac) == 3 && ac[0] >= '2' && ac[0] <= '9' &&
		strings.Trim(ac, "0123456789") == ""
}

// apiAvailableNumber is Twilio's JSON for an available local number.
type apiAvailableNumber struct {
	AddressRequirements string          `json:"address_requirements"`
	Beta                bool            `json:"beta"`
	Capabilities        apiCapabilities `json:"capabilities"`
	FriendlyName        string          `json:"friendly_name"`
	IsoCountry          string          `json:"iso_country"`
	Lata                *string         `json:"lata"`
	Latitude            *string         `json:"latitude"`
	Locality            *string         `json:"locality"`
	Longitude           *string         `json:"longitude"`
	PhoneNumber         string          `json:"phone_number"`
	PostalCode          *string         `json:"postal_code"`
	RateCenter          *string         `json:"rate_center"`
	Region              *string         `json:"region"`
}

// availableLocal serves GET AvailablePhoneNumbers/{CountryCode}/Local.json.
// It offers North American numbers only (US, CA); elsewhere the list is
// empty.
func (s *Simulator) availableLocal(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	country := strings.ToUpper(r.PathValue("country"))
	ac := r.Form.Get("AreaCode")
	if ac == "" {
		ac = defaultAreaCodes[country]
	}
	size, err := strconv.Atoi(r.Form.Get("PageSize"))
	if err != nil || size <= 0 {
		size = 30
	}
	size = min(size, 100)
	out := []apiAvailableNumber{}
	if _, ok := defaultAreaCodes[country]; ok && validAreaCode(ac) {
		s.mu.Lock()
		nums := s.availableLocked(ac, size)
		s.mu.Unlock()
		for _, p := range nums {
			out = append(out, apiAvailableNumber{
				AddressRequirements: "none",
				Capabilities:        apiCapabilities{Voice: true, SMS: true, MMS: true},
				FriendlyName:        formatNumber(p),
				IsoCountry:          country,
				PhoneNumber:         p,
			})
		}
	}
	writeJSON(w, http.StatusOK, struct {
		listPage
		AvailablePhoneNumbers []apiAvailableNumber `json:"available_phone_numbers"`
	}{newListPage(r, len(out)), out})
}

// createNumber serves POST IncomingPhoneNumbers.json: Klaxon buys a number,
// named by PhoneNumber or picked from AreaCode.
func (s *Simulator) createNumber(w http.ResponseWriter, r *http.Request) {
	if s.injectFailure(w) || !parseForm(w, r) {
		return
	}
	f := r.PostForm
	p := strings.TrimSpace(f.Get("PhoneNumber"))
	ac := strings.TrimSpace(f.Get("AreaCode"))
	n := &owned{
		account:              accountOf(r),
		friendlyName:         f.Get("FriendlyName"),
		smsURL:               f.Get("SmsUrl"),
		smsMethod:            f.Get("SmsMethod"),
		voiceURL:             f.Get("VoiceUrl"),
		voiceMethod:          f.Get("VoiceMethod"),
		statusCallback:       f.Get("StatusCallback"),
		statusCallbackMethod: f.Get("StatusCallbackMethod"),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case p == "" && ac == "":
		writeError(w, http.StatusBadRequest, 21421, "A PhoneNumber or an AreaCode is required.")
		return
	case p == magicUnavailable:
		writeError(w, http.StatusBadRequest, 21422, "PhoneNumber %s is not available.", p)
		return
	case p == magicInvalid || (p != "" && !phone.IsE164(p)):
		writeError(w, http.StatusBadRequest, 21421, "PhoneNumber %s is invalid.", p)
		return
	case p != "" && s.numberByPhoneLocked(p) != nil:
		writeError(w, http.StatusBadRequest, 21422, "PhoneNumber %s is not available.", p)
		return
	case p == "" && !validAreaCode(ac):
		writeError(w, http.StatusBadRequest, 21421, "AreaCode %s is invalid.", ac)
		return
	case p == "":
		nums := s.availableLocked(ac, 1)
		if len(nums) == 0 {
			writeError(w, http.StatusBadRequest, 21452, "No phone numbers found in area code %s.", ac)
			return
		}
		p = nums[0]
	}
	n.phone = p
	s.addNumberLocked(n)
	writeJSON(w, http.StatusCreated, n.toAPI())
}

// listNumbers serves GET IncomingPhoneNumbers.json, filtered by
// PhoneNumber (digits it contains) and FriendlyName.
func (s *Simulator) listNumbers(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	want := digitsOf(r.Form.Get("PhoneNumber"))
	name := r.Form.Get("FriendlyName")
	out := []apiIncomingNumber{}
	s.mu.Lock()
	for _, n := range s.numbers {
		if n.account != accountOf(r) || !strings.Contains(digitsOf(n.phone), want) ||
			(name != "" && n.friendlyName != name) {
			continue
		}
		out = append(out, n.toAPI())
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		listPage
		IncomingPhoneNumbers []apiIncomingNumber `json:"incoming_phone_numbers"`
	}{newListPage(r, len(out)), out})
}

// digitsOf keeps only the digits of s.
func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// lookupNumberLocked finds the owned number a REST request names. s.mu
// must be held.
func (s *Simulator) lookupNumberLocked(r *http.Request) *owned {
	sid, ok := resourceSID(r)
	if !ok {
		return nil
	}
	for _, n := range s.numbers {
		if n.sid == sid && n.account == accountOf(r) {
			return n
		}
	}
	return nil
}

// fetchNumber serves GET IncomingPhoneNumbers/{Sid}.json.
func (s *Simulator) fetchNumber(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookupNumberLocked(r)
	if n == nil {
		writeNotFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, n.toAPI())
}

// updateNumber serves POST IncomingPhoneNumbers/{Sid}.json: it changes the
// fields given.
func (s *Simulator) updateNumber(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookupNumberLocked(r)
	if n == nil {
		writeNotFound(w, r)
		return
	}
	set := func(field string, into *string) {
		if vals, ok := r.PostForm[field]; ok && len(vals) > 0 {
			*into = vals[0]
		}
	}
	set("FriendlyName", &n.friendlyName)
	set("SmsUrl", &n.smsURL)
	set("SmsMethod", &n.smsMethod)
	set("VoiceUrl", &n.voiceURL)
	set("VoiceMethod", &n.voiceMethod)
	set("StatusCallback", &n.statusCallback)
	set("StatusCallbackMethod", &n.statusCallbackMethod)
	n.updated = time.Now().UTC()
	s.notifyLocked()
	writeJSON(w, http.StatusOK, n.toAPI())
}

// deleteNumber serves DELETE IncomingPhoneNumbers/{Sid}.json: Klaxon
// releases a number.
func (s *Simulator) deleteNumber(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.lookupNumberLocked(r)
	if n == nil {
		writeNotFound(w, r)
		return
	}
	for i, m := range s.numbers {
		if m == n {
			s.numbers = append(s.numbers[:i], s.numbers[i+1:]...)
			break
		}
	}
	s.notifyLocked()
	w.WriteHeader(http.StatusNoContent)
}

// smsWebhook returns where and how inbound texts to p are posted.
func (s *Simulator) smsWebhook(p string) (target, method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.numberByPhoneLocked(p); n != nil && n.smsURL != "" {
		return n.smsURL, orPost(n.smsMethod)
	}
	return s.cfg.InboundURL, http.MethodPost
}
