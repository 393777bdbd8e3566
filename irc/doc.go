// Package irc is Klaxon's IRC client: a bot connection that registers
// (IRCv3 CAP negotiation, SASL PLAIN or PASS, TLS with certificate
// verification), joins its channels, and stays up — answering PINGs,
// checking its own lag, taking back its nick, rejoining after a KICK and
// reconnecting with backoff — while it delivers what people say as Events
// and sends what Klaxon says with Say.
//
// Everything sent passes one token bucket (a short burst, then about a line
// a second), and Say splits text at spaces and UTF-8 rune boundaries so
// each line fits the server's LINELEN once the server has put the bot's
// nick!user@host in front of it: ngircd drops a client that sends a longer
// line, InspIRCd silently cuts it.
//
// Identity: a nick is not an identity — anyone can take one that is free.
// An Event carries the sender's IRCv3 services account where the server
// vouches for one (account-tag, extended-join, account-notify, WHOX), and
// whether the server has accounts at all; callers that act on commands
// decide with Event.Vouched and their own settings whether a bare nick is
// enough.
//
// The package holds no package-level state; each Client is independent.
package irc
