package mailsink

import (
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
)

// page lists the mails, newest first; it refreshes itself so a person
// watching `klaxon dev` sees mail arrive.
var page = template.Must(template.New("mails").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Klaxon mail sink</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
article { border: 1px solid #ccc; border-radius: 4px; padding: 0.5em 1em; margin-bottom: 1em; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.1em 1em; margin: 0; font-size: 0.9em; }
dt { color: #666; }
dd { margin: 0; }
pre { white-space: pre-wrap; background: #f6f6f6; padding: 0.5em; }
</style>
</head>
<body>
<h1>Mail sink</h1>
<p>{{len .}} mail{{if ne (len .) 1}}s{{end}}, newest first. JSON: <a href="api/mails">api/mails</a></p>
{{range .}}<article>
<h2>{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</h2>
<dl>
<dt>From</dt><dd>{{.From}}</dd>
<dt>To</dt><dd>{{range $i, $to := .To}}{{if $i}}, {{end}}{{$to}}{{end}}</dd>
<dt>Received</dt><dd>{{.Received.Format "2006-01-02 15:04:05 MST"}}</dd>
<dt>Message-ID</dt><dd>{{.MessageID}}</dd>
{{if .InReplyTo}}<dt>In-Reply-To</dt><dd>{{.InReplyTo}}</dd>{{end}}
</dl>
<pre>{{.Body}}</pre>
</article>
{{else}}<p>No mail yet.</p>
{{end}}
</body>
</html>
`))

// Handler serves the received mails: an HTML page at / and JSON at
// GET /api/mails (newest first; ?to=ADDRESS keeps one inbox). Mount it under
// a prefix with http.StripPrefix.
func (s *Sink) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, newestFirst(s.Mails())); err != nil {
			s.logger.Warn("render mail sink page", "err", err)
		}
	})
	mux.HandleFunc("GET /api/mails", func(w http.ResponseWriter, r *http.Request) {
		var mails []Mail
		if to := r.URL.Query().Get("to"); to != "" {
			mails = s.Inbox(to)
		} else {
			mails = s.Mails()
		}
		if mails == nil {
			mails = []Mail{}
		}
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(newestFirst(mails)); err != nil {
			s.logger.Warn("encode mails", "err", err)
		}
	})
	return mux
}

func newestFirst(mails []Mail) []Mail {
	slices.Reverse(mails)
	return mails
}
