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
	return func(salt, hash []byte) bool {
		return hmac.Equal(Hash(salt, code), hash)
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
