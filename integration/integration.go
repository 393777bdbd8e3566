// Package integration is the domain of monitors reaching Klaxon: services
// with secret integration keys, Prometheus Alertmanager's webhook, the
// generic event API, and subscriptions ("send me an SMS when …"). It holds
// the grammar, the rules and the texts, with no I/O: the gateway decodes
// with it, the store keeps what it returns, and paging acts on it.
package integration

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/klaxonhq/klaxon"
)

// KeyPrefix starts every integration key, so a leaked one is recognisable
// (and secret scanners can find it).
const KeyPrefix = "kxi_"

// keyBytes is the key's randomness: 160 bits.
const keyBytes = 20

// keyEncoding writes keys in lowercase base32 without padding: URL-safe
// and easy to read aloud.
var keyEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewKey returns a fresh random integration key and the hash to store. The
// key itself is shown once and never stored.
func NewKey() (key, hash string) {
	var b [keyBytes]byte
	_, _ = rand.Read(b[:]) // never fails
	key = KeyPrefix + strings.ToLower(keyEncoding.EncodeToString(b[:]))
	return key, HashKey(key)
}

// HashKey is how a key is stored and looked up: SHA-256 in hex. Keys carry
// 160 random bits, so a fast hash is enough; there is nothing to guess.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// KeyMatches reports, in constant time, whether key hashes to hash.
func KeyMatches(key, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashKey(key)), []byte(hash)) == 1
}

// WellFormedKey reports whether key has the shape NewKey gives, so a
// malformed one is refused without a database lookup.
func WellFormedKey(key string) bool {
	if !strings.HasPrefix(key, KeyPrefix) {
		return false
	}
	rest := key[len(KeyPrefix):]
	if len(rest) != keyEncoding.EncodedLen(keyBytes) {
		return false
	}
	_, err := keyEncoding.DecodeString(strings.ToUpper(rest))
	return err == nil
}

// serviceName is what a service may be called: as rotations and policies.
var serviceName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// ValidServiceName checks a service's name.
func ValidServiceName(name string) error {
	if !serviceName.MatchString(name) {
		return klaxon.Errorf(klaxon.EInvalid, "A service name is 1 to 64 lowercase letters, digits, dots, dashes or underscores, starting with a letter or digit; %q is not.", clip(name, 70))
	}
	return nil
}

// clip shortens s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
