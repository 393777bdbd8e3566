package irc

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		text string
		max  int
		want []string
	}{
		{"fits", "hello world", 20, []string{"hello world"}},
		{"at a space", "hello brave new world", 11, []string{"hello brave", "new world"}},
		{"long word at rune boundary", "ééééé", 5, []string{"éé", "éé", "é"}},
		{"emoji never cut", "a😀😀", 6, []string{"a😀", "😀"}},
		{"empty", "", 10, nil},
		{"tiny max is UTFMax", "abcdefgh", 1, []string{"abcd", "efgh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Split(tt.text, tt.max)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
				t.Fatalf("Split(%q, %d) = %q, want %q", tt.text, tt.max, got, tt.want)
			}
		})
	}
}

func TestSplit_PiecesFitAndRejoin(t *testing.T) {
	text := strings.Repeat("Grüße aus Köln — 東京 😀 ", 80) + strings.Repeat("ж", 300)
	for _, max := range []int{4, 7, 50, 300, 433} {
		pieces := Split(text, max)
		var b strings.Builder
		for i, p := range pieces {
			if len(p) > max || !utf8.ValidString(p) || p == "" {
				t.Fatalf("max %d: piece %d = %q (%d bytes)", max, i, p, len(p))
			}
			b.WriteString(p)
		}
		if strip := strings.ReplaceAll(text, " ", ""); strings.ReplaceAll(b.String(), " ", "") != strip {
			t.Fatalf("max %d: pieces lose text", max)
		}
	}
}

func TestLines_NoInjection(t *testing.T) {
	got := lines("one\r\nQUIT :x\rthree\n\n \x00four")
	want := []string{"one", "QUIT :x", "three", " four"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("lines = %q, want %q", got, want)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("hello brave new world", 11)
	f.Add("ééééé 😀", 5)
	f.Fuzz(func(t *testing.T, text string, n int) {
		if n > 1000 || n < -1000 {
			return
		}
		limit := max(n, utf8.UTFMax)
		for _, p := range Split(text, n) {
			if len(p) > limit || p == "" {
				t.Fatalf("piece %q over %d", p, limit)
			}
			if utf8.ValidString(text) && !utf8.ValidString(p) {
				t.Fatalf("piece %q of valid text is not UTF-8", p)
			}
		}
	})
}

func BenchmarkSplit(b *testing.B) {
	text := strings.Repeat("Grüße aus Köln, the database is on fire 😀 ", 50)
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = Split(text, 420)
	}
}
