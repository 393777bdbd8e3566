package mailsink

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
)

// parse reads the headers and the plain-text body of a raw message. A
// message net/mail cannot read is kept whole as its body, so nothing that
// arrived is lost.
func parse(raw []byte) Mail {
	m := Mail{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Body = string(raw)
		return m
	}
	dec := mime.WordDecoder{}
	header := func(name string) string {
		v := msg.Header.Get(name)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	m.Subject = header("Subject")
	m.MessageID = header("Message-ID")
	m.InReplyTo = header("In-Reply-To")
	m.References = header("References")
	m.Body = textBody(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m
}

// textBody decodes a body: its transfer encoding, and for a multipart body
// the first text/plain part.
func textBody(contentType, transferEncoding string, body io.Reader) string {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err == nil && strings.HasPrefix(mediaType, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return ""
			}
			ct := p.Header.Get("Content-Type")
			if ct == "" || strings.HasPrefix(strings.ToLower(ct), "text/plain") || strings.HasPrefix(strings.ToLower(ct), "multipart/") {
				return textBody(ct, p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
	}
	switch strings.ToLower(strings.TrimSpace(transferEncoding)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // line breaks are skipped
	}
	b, err := io.ReadAll(body)
	if err != nil && len(b) == 0 {
		return ""
	}
	s := strings.ReplaceAll(string(b), "\r\n", "\n")
	return strings.TrimSuffix(s, "\n")
}
