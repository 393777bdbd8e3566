package email

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"strconv"

	gomail "github.com/wneessen/go-mail"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/redact"
)

// classify turns a go-mail failure into a *klaxon.DeliveryError: an SMTP
// 5xx reply is permanent, a 4xx reply, a refused connection or a timeout is
// not.
func classify(err error) *klaxon.DeliveryError {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return classifySendError(err, se)
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		// A reply during the greeting, EHLO, STARTTLS or AUTH.
		de := byReply(te.Code, "")
		de.Reason = "send email: the server refused the connection: " + redact.Text(te.Msg)
		de.Err = redact.Error(err)
		return de
	}
	de := &klaxon.DeliveryError{Kind: "Network", Reason: "send email: " + redact.Text(err.Error()), Err: redact.Error(err)}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		de.Code = "timeout"
	}
	return de
}

func classifySendError(err error, se *gomail.SendError) *klaxon.DeliveryError {
	reason := "send email: " + se.Reason.String()
	if esc := se.EnhancedStatusCode(); esc != "" {
		reason += " (" + esc + ")"
	}
	var de *klaxon.DeliveryError
	switch code := se.ErrorCode(); {
	case code >= 400:
		de = byReply(code, "MailboxRejected")
	case se.IsTemp():
		de = &klaxon.DeliveryError{Kind: "MailUnavailable"}
	case se.Reason == gomail.ErrGetSender || se.Reason == gomail.ErrGetRcpts:
		de = &klaxon.DeliveryError{Permanent: true, Kind: "InvalidAddress"}
	default:
		// No reply code: the connection failed mid-transaction.
		de = &klaxon.DeliveryError{Kind: "Network"}
	}
	de.Reason = reason
	de.Err = redact.Error(err)
	return de
}

// byReply classifies an SMTP reply code. rejected names a permanent
// refusal; empty means "MailboxRejected".
func byReply(code int, rejected string) *klaxon.DeliveryError {
	if rejected == "" {
		rejected = "MailboxRejected"
	}
	de := &klaxon.DeliveryError{Code: "smtp " + strconv.Itoa(code)}
	switch {
	case code == 530 || code == 534 || code == 535 || code == 538:
		de.Permanent, de.Kind = true, "AuthFailed"
	case code >= 500:
		de.Permanent, de.Kind = true, rejected
	default:
		de.Kind = "MailUnavailable"
	}
	return de
}

// invalid is a permanent failure found before anything was sent; it wraps
// an EInvalid *klaxon.Error so the gateway answers 4xx for it.
func invalid(kind, reason string) *klaxon.DeliveryError {
	return &klaxon.DeliveryError{
		Permanent: true,
		Kind:      kind,
		Reason:    "send email: " + reason,
		Err:       klaxon.Errorf(klaxon.EInvalid, "%s", reason),
	}
}
