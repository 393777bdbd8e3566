// Package codec encrypts what Klaxon hands to Temporal — workflow and
// activity inputs and results, signals, queries, updates — so that phone
// numbers, addresses, message bodies and codes never rest in clear in
// Temporal's history or show in its Web UI. Search attributes, which hold no
// personal data, stay readable for `temporal workflow list --query`.
//
// Payloads are sealed with AES-256-GCM. Several keys may be configured: the
// first seals, every one opens, so a key can be rotated without losing the
// histories written under the previous one. Payloads that were never sealed
// pass through, so turning encryption on keeps old histories readable.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// Encoding is the metadata "encoding" of a sealed payload.
const Encoding = "binary/klaxon-aes256gcm"

// metaKeyID names the key that sealed a payload.
const metaKeyID = "klaxon-key-id"

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// Codec is a converter.PayloadCodec that seals payloads with AES-256-GCM.
type Codec struct {
	sealID string
	aeads  map[string]cipher.AEAD
}

var _ converter.PayloadCodec = (*Codec)(nil)

// ParseKeys reads a comma-separated list of base64 keys of KeySize bytes,
// the sealing key first.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(part)
		if err != nil {
			return nil, fmt.Errorf("key %d is not base64", i+1)
		}
		if len(k) != KeySize {
			return nil, fmt.Errorf("key %d is %d bytes; a key is %d random bytes, base64-encoded", i+1, len(k), KeySize)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("no key given")
	}
	return keys, nil
}

// New returns a codec that seals with keys[0] and opens with any of keys.
func New(keys [][]byte) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("codec: no key")
	}
	c := &Codec{aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, k := range keys {
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("codec: key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec: key %d: %w", i+1, err)
		}
		id := KeyID(k)
		if i == 0 {
			c.sealID = id
		}
		c.aeads[id] = aead
	}
	return c, nil
}

// KeyID is the public name of a key, written beside every payload it
// seals: the first 8 bytes of its SHA-256, in hex.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// Encode seals each payload, metadata and data together, under the
// sealing key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.sealID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := p.Marshal()
		if err != nil {
			return nil, fmt.Errorf("codec: encode: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("codec: encode: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				metaKeyID:                  []byte(c.sealID),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.sealID)),
		}
	}
	return out, nil
}

// Decode opens each sealed payload and passes the others through.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[metaKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			return nil, fmt.Errorf("codec: decode: payload sealed with key %q, which is not configured", id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, errors.New("codec: decode: sealed payload is truncated")
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: decode: payload under key %q does not open: %w", id, err)
		}
		var inner commonpb.Payload
		if err := inner.Unmarshal(plain); err != nil {
			return nil, fmt.Errorf("codec: decode: %w", err)
		}
		out[i] = &inner
	}
	return out, nil
}

// DataConverter returns the SDK's default converter with c sealing every
// payload, for client.Options.DataConverter.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}
