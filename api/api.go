// Package api holds the wire types of Klaxon's REST API: the JSON bodies the
// gateway decodes and answers, and that the typed client and the CLI send and
// read. One declaration per shape keeps the server and its clients from
// drifting apart; the package does no I/O and imports no storage.
package api

// Error is every error answer: one clear sentence, with a 4xx or 5xx status.
type Error struct {
	Error string `json:"error"`
}
