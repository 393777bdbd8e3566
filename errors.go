package klaxon

import (
	"errors"
	"fmt"
	"time"
)

// ErrorCode is a kind of failure that callers act on; the gateway maps each to
// one HTTP status in one table.
type ErrorCode string

// The error kinds.
const (
	EInvalid       ErrorCode = "invalid"       // bad input: 400
	EUnprocessable ErrorCode = "unprocessable" // well-formed but refused (a wrong code): 422
	EUnsupported   ErrorCode = "unsupported"   // wrong content type: 415
	ETooLarge      ErrorCode = "too_large"     // body over the cap: 413
	ENotFound      ErrorCode = "not_found"     // 404
	EConflict      ErrorCode = "conflict"      // 409
	EThrottled     ErrorCode = "throttled"     // 429
	EUnauthorized  ErrorCode = "unauthorized"  // 401
	EUnavailable   ErrorCode = "unavailable"   // 503: a dependency is down
	EInternal      ErrorCode = "internal"      // 500
)

// Error is an error whose message is safe to show to the person who caused it.
type Error struct {
	Code    ErrorCode
	Message string
	// RetryAfter, for EThrottled, says when to try again.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an *Error with a formatted, user-facing message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is returned (wrapped in an *Error with ENotFound) when a
// looked-up record does not exist.
var ErrNotFound = errors.New("not found")

// ErrorCodeOf returns the code of the first *Error in err's chain, ENotFound
// for ErrNotFound, and EInternal otherwise.
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, ErrNotFound) {
		return ENotFound
	}
	return EInternal
}

// ErrorMessageOf returns the user-facing message of err: the *Error's own,
// or a generic sentence that leaks nothing internal.
func ErrorMessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if errors.Is(err, ErrNotFound) {
		return "Not found."
	}
	return "Internal error."
}

// DeliveryError is a provider's refusal, classified at the edge: permanent
// failures (an invalid number, an opted-out recipient, SMTP 5xx) are not
// retried; transient ones (429, 5xx, timeouts, SMTP 4xx) are.
type DeliveryError struct {
	// Permanent reports that retrying cannot help.
	Permanent bool
	// Kind names the failure for Temporal and the audit log, e.g.
	// "InvalidNumber", "OptedOut", "NotMobile", "AuthFailed", "Throttled",
	// "ProviderUnavailable", "MailboxRejected".
	Kind string
	// Code is the provider's own code ("21211", "smtp 550", "http 503").
	Code string
	// Reason is a short human-readable explanation.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

func (e *DeliveryError) Error() string {
	s := e.Kind
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

func (e *DeliveryError) Unwrap() error { return e.Err }
