package codec_test

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	"github.com/klaxonhq/klaxon/codec"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, codec.KeySize) }

type message struct {
	To   string
	Body string
}

func mustNew(t testing.TB, keys ...[]byte) *codec.Codec {
	t.Helper()
	c, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDataConverter_SealsAndOpensAPayload(t *testing.T) {
	dc := codec.DataConverter(mustNew(t, key(1)))
	in := message{To: "+15555550123", Body: "Your code is 123456"}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(p.GetMetadata()[converter.MetadataEncoding]); got != codec.Encoding {
		t.Errorf("encoding %q, want %q", got, codec.Encoding)
	}
	for _, secret := range []string{"+15555550123", "123456", "json/plain"} {
		if bytes.Contains(p.GetData(), []byte(secret)) {
			t.Errorf("sealed payload shows %q in clear", secret)
		}
	}
	var out message
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	if out != in {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
}

func TestCodec_KeyRotationOpensOldPayloadsAndSealsWithTheNew(t *testing.T) {
	old := mustNew(t, key(1))
	sealed, err := old.Encode([]*commonpb.Payload{{Data: []byte(`"hello"`)}})
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustNew(t, key(2), key(1))
	opened, err := rotated.Decode(sealed)
	if err != nil {
		t.Fatalf("the rotated codec cannot open a payload of the old key: %v", err)
	}
	if string(opened[0].GetData()) != `"hello"` {
		t.Errorf("opened %q", opened[0].GetData())
	}
	resealed, err := rotated.Encode(opened)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Decode(resealed); err == nil {
		t.Error("a codec without the new key opened a payload sealed with it")
	} else if !strings.Contains(err.Error(), codec.KeyID(key(2))) {
		t.Errorf("error %q does not name the missing key", err)
	}
}

func TestCodec_PassesUnsealedPayloadsThrough(t *testing.T) {
	c := mustNew(t, key(1))
	plain := &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("json/plain")}, Data: []byte(`1`)}
	out, err := c.Decode([]*commonpb.Payload{plain})
	if err != nil || out[0] != plain {
		t.Fatalf("decode of an unsealed payload = %v, %v; want it unchanged", out, err)
	}
}

func TestCodec_RefusesATamperedPayload(t *testing.T) {
	c := mustNew(t, key(1))
	sealed, err := c.Encode([]*commonpb.Payload{{Data: []byte(`"pay alice"`)}})
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(p *commonpb.Payload){
		"flipped bit": func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 1 },
		"truncated":   func(p *commonpb.Payload) { p.Data = p.Data[:5] },
		"other key id": func(p *commonpb.Payload) {
			p.Metadata["klaxon-key-id"] = []byte(codec.KeyID(key(9)))
		},
	} {
		p := &commonpb.Payload{Metadata: map[string][]byte{}, Data: bytes.Clone(sealed[0].GetData())}
		for k, v := range sealed[0].GetMetadata() {
			p.Metadata[k] = v
		}
		mutate(p)
		if _, err := c.Decode([]*commonpb.Payload{p}); err == nil {
			t.Errorf("%s: a tampered payload opened", name)
		}
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2 := base64.StdEncoding.EncodeToString(key(1)), base64.StdEncoding.EncodeToString(key(2))
	keys, err := codec.ParseKeys(" " + k1 + " , " + k2 + ",")
	if err != nil || len(keys) != 2 || !bytes.Equal(keys[0], key(1)) {
		t.Fatalf("ParseKeys = %v, %v", keys, err)
	}
	for _, bad := range []string{"", " , ", "not base64!", base64.StdEncoding.EncodeToString([]byte("short"))} {
		if _, err := codec.ParseKeys(bad); err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
		}
	}
}

// BenchmarkSealOpen is the cost encryption adds to one payload of the size
// of a page text's delivery input, both ways.
func BenchmarkSealOpen(b *testing.B) {
	in := message{To: "+15555550123", Body: strings.Repeat("x", 160)}
	for name, dc := range map[string]converter.DataConverter{
		"plain":  converter.GetDefaultDataConverter(),
		"sealed": codec.DataConverter(mustNew(b, key(1))),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := dc.ToPayload(in)
				if err != nil {
					b.Fatal(err)
				}
				var out message
				if err := dc.FromPayload(p, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
