package irc

import (
	"strings"
	"unicode/utf8"
)

// Split cuts text into pieces of at most max bytes, at the last space that
// fits (the space itself is dropped), or, inside a word longer than max, at
// the last UTF-8 rune boundary that fits, so no rune is ever cut in two.
// The pieces, joined again with the dropped spaces, are text. A max below
// utf8.UTFMax is taken as utf8.UTFMax. Text with no bytes gives no pieces.
func Split(text string, max int) []string {
	if max < utf8.UTFMax {
		max = utf8.UTFMax
	}
	var out []string
	for len(text) > max {
		cut, skip := strings.LastIndexByte(text[:max+1], ' '), 1
		if cut <= 0 {
			cut, skip = max, 0
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
			if cut == 0 { // not UTF-8: no rune start within max bytes
				cut = max
			}
		}
		out = append(out, text[:cut])
		text = text[cut+skip:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

// lines turns what a caller wants to say into the lines IRC can carry: one
// per line of text (CR LF, LF or CR end a line), without NUL bytes, empty
// lines left out.
func lines(text string) []string {
	text = strings.ReplaceAll(text, "\x00", "")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
