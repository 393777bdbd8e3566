// Package sms knows how a text travels as SMS: which alphabet it needs
// (GSM-7 or UCS-2), how many segments it costs, how to shorten a page so it
// fits one segment without ever losing its reply instructions, and how a
// long text (up to Twilio's 1,600 characters) is cut into segments.
package sms

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Encoding is the alphabet a text is sent in.
type Encoding int

// The two alphabets of SMS. A text goes as GSM-7 when every character is in
// the GSM 03.38 basic or extension table, and as UCS-2 otherwise.
const (
	GSM7 Encoding = iota
	UCS2
)

func (e Encoding) String() string {
	if e == UCS2 {
		return "UCS-2"
	}
	return "GSM-7"
}

// Segment capacities: a single SMS holds 160 GSM-7 septets or 70 UCS-2 code
// units; each part of a concatenated SMS loses room to its header.
const (
	GSMSingle  = 160
	GSMPart    = 153
	UCS2Single = 70
	UCS2Part   = 67
)

// MaxLength is the longest text, in characters, that Twilio accepts for one
// (concatenated) message.
const MaxLength = 1600

// ErrTooLong is returned by Split for a text over MaxLength characters.
var ErrTooLong = errors.New("text is longer than 1600 characters")

// gsmBasic is the GSM 03.38 default alphabet (one septet each), without the
// escape code itself.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 extension table: each costs two septets (the
// escape code and the character), and a segment boundary never splits them.
const gsmExtension = "\f^{}\\[~]|€"

// septets returns how many GSM-7 septets r costs: 1, 2, or 0 when r is not
// in the GSM alphabet.
func septets(r rune) int {
	switch {
	case r < utf8.RuneSelf && r >= ' ' && r <= '~' && !strings.ContainsRune(gsmExtension, r) && r != '`':
		// Fast path for printable ASCII: all of it is in the basic table
		// except the backquote and the extension characters.
		return 1
	case strings.ContainsRune(gsmExtension, r):
		return 2
	case strings.ContainsRune(gsmBasic, r):
		return 1
	default:
		return 0
	}
}

// ucs2Units returns how many UTF-16 code units r costs.
func ucs2Units(r rune) int {
	if r > 0xFFFF {
		return 2
	}
	return 1
}

// EncodingOf returns the alphabet text must be sent in.
func EncodingOf(text string) Encoding {
	for _, r := range text {
		if septets(r) == 0 {
			return UCS2
		}
	}
	return GSM7
}

// Units returns the size of text in its encoding's units (GSM-7 septets or
// UTF-16 code units) and the encoding.
func Units(text string) (int, Encoding) {
	enc := EncodingOf(text)
	n := 0
	for _, r := range text {
		n += cost(r, enc)
	}
	return n, enc
}

func cost(r rune, enc Encoding) int {
	if enc == GSM7 {
		return septets(r)
	}
	return ucs2Units(r)
}

func capacities(enc Encoding) (single, part int) {
	if enc == GSM7 {
		return GSMSingle, GSMPart
	}
	return UCS2Single, UCS2Part
}

// Segments returns how many SMS segments text costs (0 for the empty text).
// It agrees with Split: a text of n segments splits into n parts.
func Segments(text string) int {
	if text == "" {
		return 0
	}
	n, enc := Units(text)
	single, _ := capacities(enc)
	if n <= single {
		return 1
	}
	return len(splitParts(text, enc))
}

// Split cuts text into the parts of a concatenated SMS, as a carrier does:
// each part fills one segment, and no part ends inside a character, a GSM-7
// escape sequence or a UTF-16 surrogate pair. A text that fits one SMS is
// one part; the empty text is no part. Texts over MaxLength characters are
// refused with ErrTooLong.
func Split(text string) ([]string, error) {
	if n := utf8.RuneCountInString(text); n > MaxLength {
		return nil, fmt.Errorf("split: %w (it has %d)", ErrTooLong, n)
	}
	if text == "" {
		return nil, nil
	}
	n, enc := Units(text)
	single, _ := capacities(enc)
	if n <= single {
		return []string{text}, nil
	}
	return splitParts(text, enc), nil
}

// splitParts fills parts of a concatenated message greedily.
func splitParts(text string, enc Encoding) []string {
	_, part := capacities(enc)
	var parts []string
	start, used := 0, 0
	for i, r := range text {
		c := cost(r, enc)
		if used+c > part {
			parts = append(parts, text[start:i])
			start, used = i, 0
		}
		used += c
	}
	return append(parts, text[start:])
}

// Ellipsis marks a shortened summary. Three dots rather than "…", which is
// not in the GSM alphabet and would turn the whole text into UCS-2.
const Ellipsis = "..."

// Fit returns summary + suffix, shortening summary (never suffix) until the
// text costs at most maxSegments segments. A shortened summary loses its
// end, preferably at a word boundary, and gains Ellipsis. When even an empty
// summary cannot fit, the result is suffix alone: the reply instructions of
// a page are worth more than its description. maxSegments below 1 counts
// as 1.
func Fit(summary, suffix string, maxSegments int) string {
	maxSegments = max(maxSegments, 1)
	if Segments(summary+suffix) <= maxSegments {
		return summary + suffix
	}
	// Rune offsets of summary, so that a cut never splits a character.
	cuts := make([]int, 0, len(summary))
	for i := range summary {
		cuts = append(cuts, i)
	}
	fits := func(k int) bool {
		return Segments(shorten(summary, cuts[k])+suffix) <= maxSegments
	}
	// Shorter prefixes never need more room (nor a smaller alphabet), so the
	// longest prefix that fits is found by bisection.
	lo, hi := -1, len(cuts) // fits(lo) or lo == -1; !fits(hi) or hi == len(cuts)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo < 0 {
		return suffix
	}
	end := cuts[lo]
	// Prefer to end at a word: back up to a space among the last few
	// characters, which only makes the text shorter.
	if sp := strings.LastIndexFunc(summary[:end], unicode.IsSpace); sp > 0 && utf8.RuneCountInString(summary[sp:end]) <= 12 {
		end = sp
	}
	s := shorten(summary, end)
	if strings.TrimSpace(s) == Ellipsis {
		return suffix
	}
	return s + suffix
}

// shorten returns summary cut at byte offset end (a rune boundary), without
// trailing spaces or punctuation, followed by Ellipsis.
func shorten(summary string, end int) string {
	s := strings.TrimRightFunc(summary[:end], func(r rune) bool {
		return unicode.IsSpace(r) || (unicode.IsPunct(r) && !strings.ContainsRune(")]}\"'»”’", r))
	})
	return s + Ellipsis
}
