// Package code is the domain of verification and login codes, with no
// I/O: how a code is made, stored (salted HMAC) and compared, and how the
// forms people type or text it in are read.
package code

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
)

// Digits is the length of every verification and login code.
const Digits = 6

// New returns a uniformly random Digits-digit code, a fresh random
// salt, and the code's hash under it. Only the salt and hash are stored.
func New() (code string, salt, hash []byte) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("new code: %v", err))
	}
	code = fmt.Sprintf("%06d", n.Int64())
	salt = make([]byte, 16)
	_, _ = rand.Read(salt)
	return code, salt, Hash(salt, code)
}

// Hash is the stored form of a code: HMAC-SHA256 keyed with its salt.
func Hash(salt []byte, code string) []byte {
	mac := hmac.New(sha256.New, salt)
	mac.Write([]byte(code))
	return mac.Sum(nil)
}

// Matcher returns a constant-time comparison of code against a stored
// salt and hash, for store.CheckCode and store.VerifiedCodeMatches.
func Matcher(code string) func(salt, hash []byte) bool {
	return Peppers(nil).Matcher(code)
}

// Peppers are server-side secrets (KLAXON_CODE_PEPPER) that key the hash
// of every code, so that the database alone — salts and hashes — is not
// enough to find a code by trying all million. The first hashes new codes;
// every one is accepted when checking, so a pepper can be rotated by
// putting the new one first. No pepper is the salt-only hash.
type Peppers [][]byte

// MinPepperLen is the shortest pepper accepted.
const MinPepperLen = 16

// ParsePeppers reads a comma-separated list of peppers, the hashing one
// first. An empty list is no pepper.
func ParsePeppers(s string) (Peppers, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out Peppers
	for i, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if len(p) < MinPepperLen {
			return nil, fmt.Errorf("pepper %d is %d characters long; each must have at least %d", i+1, len(p), MinPepperLen)
		}
		out = append(out, []byte(p))
	}
	return out, nil
}

// New returns a new code, its salt, and its hash under the first pepper.
func (p Peppers) New() (code string, salt, hash []byte) {
	code, salt, _ = New()
	return code, salt, p.Hash(salt, code)
}

// Hash is the stored form of a code under the first pepper:
// HMAC-SHA256 keyed with the pepper of the salt and the code.
func (p Peppers) Hash(salt []byte, code string) []byte {
	if len(p) == 0 {
		return Hash(salt, code)
	}
	return peppered(p[0], salt, code)
}

func peppered(pepper, salt []byte, code string) []byte {
	mac := hmac.New(sha256.New, pepper)
	mac.Write(salt)
	mac.Write([]byte(code))
	return mac.Sum(nil)
}

// Matcher compares code against a stored salt and hash under every
// pepper, and the salt-only hash of codes stored before peppers.
func (p Peppers) Matcher(code string) func(salt, hash []byte) bool {
	return func(salt, hash []byte) bool {
		ok := hmac.Equal(Hash(salt, code), hash)
		for _, pep := range p {
			ok = hmac.Equal(peppered(pep, salt, code), hash) || ok
		}
		return ok
	}
}

// Normalize accepts a code as people type or text it ("123456",
// "123 456", "123-456", " 123456. ") and returns its Digits digits, or
// false when it is not a code.
func Normalize(s string) (string, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimRight(s, ".!")
	if len(s) > 3*Digits {
		return "", false
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", false
		}
	}
	if b.Len() != Digits {
		return "", false
	}
	return b.String(), true
}
