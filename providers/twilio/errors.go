package twilio

import (
	"context"
	"errors"
	"net"
	"strconv"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/redact"
)

// permanentKind names the Twilio error codes that no retry can fix, or
// returns "" for any other code.
func permanentKind(code int) string {
	switch code {
	case 21211, 21214: // invalid 'To' number; 'To' number cannot be reached
		return "InvalidNumber"
	case 21610: // the recipient replied STOP
		return "OptedOut"
	case 21612: // the 'To' number is not reachable from this 'From'
		return "CannotRoute"
	case 21614: // the 'To' number is not a mobile number
		return "NotMobile"
	case 21617: // the body exceeds 1600 characters
		return "BodyTooLong"
	case 20003: // authentication failed
		return "AuthFailed"
	default:
		return ""
	}
}

// codeThrottled is Twilio's "too many requests" error code.
const codeThrottled = 20429

// classify turns what twilio-go returned for one operation into a
// *klaxon.DeliveryError. status is the HTTP status the server answered
// with, 0 if none arrived.
func classify(op string, err error, status int) *klaxon.DeliveryError {
	var rest *twclient.TwilioRestError
	if errors.As(err, &rest) {
		if status == 0 {
			status = rest.Status
		}
		return classifyAPIError(op, err, rest.Code, status, rest.Message)
	}
	var restV1 *twclient.RestErrorV1
	if errors.As(err, &restV1) {
		if status == 0 {
			status = restV1.HttpStatusCode
		}
		return classifyAPIError(op, err, restV1.Code, status, restV1.Message)
	}
	if status != 0 {
		// The server answered, but with a body that is not Twilio's JSON
		// error (a proxy's HTML page, an empty 502) or a success body
		// twilio-go could not decode.
		// A 4xx from something other than Twilio does not say Twilio
		// refused the message, so only 401/403 and 429 keep their meaning.
		var de *klaxon.DeliveryError
		switch status {
		case 401, 403, 429:
			de = byStatus(status)
		default:
			de = &klaxon.DeliveryError{Kind: "ProviderUnavailable"}
		}
		de.Code = "http " + strconv.Itoa(status)
		de.Reason = op + ": unreadable response from twilio"
		de.Err = redact.Error(err)
		return de
	}
	de := &klaxon.DeliveryError{Kind: "Network", Reason: op + ": " + redact.Text(err.Error()), Err: redact.Error(err)}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		de.Code = "timeout"
	}
	return de
}

// classifyAPIError classifies a decoded Twilio error: its code first, then
// its HTTP status.
func classifyAPIError(op string, err error, code, status int, message string) *klaxon.DeliveryError {
	var de *klaxon.DeliveryError
	if kind := permanentKind(code); kind != "" {
		de = &klaxon.DeliveryError{Permanent: true, Kind: kind}
	} else if code == codeThrottled {
		de = &klaxon.DeliveryError{Kind: "Throttled"}
	} else if de = byStatus(status); de == nil {
		de = &klaxon.DeliveryError{Kind: "ProviderUnavailable"}
	}
	if code != 0 {
		de.Code = strconv.Itoa(code)
	} else if status != 0 {
		de.Code = "http " + strconv.Itoa(status)
	}
	de.Reason = op
	if message != "" {
		de.Reason += ": " + redact.Text(message)
	}
	de.Err = redact.Error(err)
	return de
}

// byStatus classifies by HTTP status alone, or returns nil for a status
// that says nothing about retrying.
func byStatus(status int) *klaxon.DeliveryError {
	switch {
	case status == 401 || status == 403:
		return &klaxon.DeliveryError{Permanent: true, Kind: "AuthFailed"}
	case status == 429:
		return &klaxon.DeliveryError{Kind: "Throttled"}
	case status >= 500:
		return &klaxon.DeliveryError{Kind: "ProviderUnavailable"}
	case status >= 400:
		return &klaxon.DeliveryError{Permanent: true, Kind: "Rejected"}
	default:
		return nil
	}
}

// invalid is a permanent failure found before anything was sent. It wraps an
// EInvalid *klaxon.Error so the gateway answers 4xx for it.
func invalid(kind, op, reason string) *klaxon.DeliveryError {
	return &klaxon.DeliveryError{
		Permanent: true,
		Kind:      kind,
		Reason:    op + ": " + reason,
		Err:       klaxon.Errorf(klaxon.EInvalid, "%s", reason),
	}
}
