package sms

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncodingOf_DetectsTheAlphabetATextNeeds(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Encoding
	}{
		{"empty", "", GSM7},
		{"plain ascii", "Page 3: derp is broken. Reply 3a to ack, 3c to resolve.", GSM7},
		{"gsm accents", "Café déjà vu: Ñandù, Øresund, Ærø, straße, Ç, ì, ò", GSM7},
		{"greek capitals in the gsm table", "ΔΦΓΛΩΠΨΣΘΞ", GSM7},
		{"extension characters", "{json} [array] ~tilde^ |pipe| \\ €", GSM7},
		{"newlines and carriage returns", "line one\nline two\r\n", GSM7},
		{"backquote is not gsm", "run `ls`", UCS2},
		{"emoji", "disk full 🔥", UCS2},
		{"cjk", "服务器宕机", UCS2},
		{"curly quotes", "it’s down", UCS2},
		{"ellipsis character", "wait…", UCS2},
		{"tab is not gsm", "a\tb", UCS2},
		{"lowercase greek", "λ", UCS2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := EncodingOf(tc.text); got != tc.want {
				t.Errorf("EncodingOf(%q) = %v, want %v", tc.text, got, tc.want)
			}
		})
	}
}

func TestSegments_CountsLikeACarrier(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		units int
		segs  int
	}{
		{"empty", "", 0, 0},
		{"one char", "a", 1, 1},
		{"160 gsm fits one", strings.Repeat("a", 160), 160, 1},
		{"161 gsm needs two", strings.Repeat("a", 161), 161, 2},
		{"306 gsm fits two", strings.Repeat("a", 306), 306, 2},
		{"307 gsm needs three", strings.Repeat("a", 307), 307, 3},
		{"extension chars cost two septets", strings.Repeat("€", 80), 160, 1},
		{"81 euros need two", strings.Repeat("€", 81), 162, 2},
		{"70 ucs2 fits one", strings.Repeat("é", 0) + strings.Repeat("中", 70), 70, 1},
		{"71 ucs2 needs two", strings.Repeat("中", 71), 71, 2},
		{"134 ucs2 fits two", strings.Repeat("中", 134), 134, 2},
		{"135 ucs2 needs three", strings.Repeat("中", 135), 135, 3},
		{"emoji is a surrogate pair", strings.Repeat("🔥", 35), 70, 1},
		{"one non-gsm char turns it all ucs2", strings.Repeat("a", 69) + "`", 70, 1},
		{"and costs a segment", strings.Repeat("a", 70) + "`", 71, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			units, _ := Units(tc.text)
			if units != tc.units {
				t.Errorf("Units = %d, want %d", units, tc.units)
			}
			if got := Segments(tc.text); got != tc.segs {
				t.Errorf("Segments = %d, want %d", got, tc.segs)
			}
		})
	}
}

func TestSplit_NeverBreaksACharacterEscapeOrSurrogatePair(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		parts []int // units per part
	}{
		{"short text is one part", "hello", []int{5}},
		{"gsm 161", strings.Repeat("a", 161), []int{153, 8}},
		{"escape pair moves whole to the next part", strings.Repeat("a", 152) + "€" + strings.Repeat("b", 10), []int{152, 12}},
		{"ucs2 71", strings.Repeat("中", 71), []int{67, 4}},
		{"surrogate pair moves whole", strings.Repeat("中", 66) + "🔥" + strings.Repeat("中", 5), []int{66, 7}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := Split(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(parts, "") != tc.text {
				t.Fatalf("parts do not join back to the text")
			}
			enc := EncodingOf(tc.text)
			var got []int
			for _, p := range parts {
				n := 0
				for _, r := range p {
					n += cost(r, enc)
				}
				got = append(got, n)
			}
			if len(got) != len(tc.parts) {
				t.Fatalf("part sizes = %v, want %v", got, tc.parts)
			}
			for i := range got {
				if got[i] != tc.parts[i] {
					t.Fatalf("part sizes = %v, want %v", got, tc.parts)
				}
			}
		})
	}
}

func TestSplit_RefusesTextsOverTwilioLimit(t *testing.T) {
	if _, err := Split(strings.Repeat("a", 1600)); err != nil {
		t.Errorf("1600 characters refused: %v", err)
	}
	if _, err := Split(strings.Repeat("a", 1601)); !errors.Is(err, ErrTooLong) {
		t.Errorf("1601 characters: err = %v, want ErrTooLong", err)
	}
	if _, err := Split(strings.Repeat("中", 1601)); !errors.Is(err, ErrTooLong) {
		t.Errorf("1601 ucs2 characters: err = %v, want ErrTooLong", err)
	}
}

func TestFit_ShortensTheSummaryNeverTheSuffix(t *testing.T) {
	const suffix = " Reply 3a to ack, 3c to resolve."
	long := "Page 3: the primary database in us-east-1 stopped accepting writes after the failover and replication lag on every replica is above thirty minutes"
	tests := []struct {
		name    string
		summary string
		suffix  string
		max     int
		want    string
	}{
		{"fits untouched", "Page 3: derp is broken.", suffix, 1, "Page 3: derp is broken." + suffix},
		{"long summary cut at a word", long, suffix, 1,
			"Page 3: the primary database in us-east-1 stopped accepting writes after the failover and replication lag on every replica is..." + suffix},
		{"two segments keep it all", long, suffix, 2, long + suffix},
		{"suffix alone when nothing else fits", "Page 3: hello", strings.Repeat("x", 160), 1, strings.Repeat("x", 160)},
		{"unicode summary is cut in ucs2 room", "Page 3: 数据库主节点停止写入，所有副本的复制延迟超过三十分钟，请立即处理这个问题", suffix, 1,
			"Page 3: 数据库主节点停止写入，所有副本的复制延迟超过三十分钟..." + suffix},
		{"zero segments counts as one", long, suffix, 0,
			"Page 3: the primary database in us-east-1 stopped accepting writes after the failover and replication lag on every replica is..." + suffix},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Fit(tc.summary, tc.suffix, tc.max)
			if got != tc.want {
				t.Errorf("Fit =\n%q\nwant\n%q", got, tc.want)
			}
			if !strings.HasSuffix(got, tc.suffix) {
				t.Errorf("suffix lost")
			}
			if Segments(tc.suffix) <= max(tc.max, 1) && Segments(got) > max(tc.max, 1) {
				t.Errorf("%d segments, want at most %d", Segments(got), tc.max)
			}
		})
	}
}

func TestFit_DropsTrailingPunctuationBeforeTheEllipsis(t *testing.T) {
	summary := "Page 9: " + strings.Repeat("word ", 20) + "end, and then some more words to overflow the segment"
	got := Fit(summary, " Reply 9a.", 1)
	if strings.Contains(got, ",...") || strings.Contains(got, " ...") {
		t.Errorf("ellipsis after punctuation or space: %q", got)
	}
}

func FuzzFit(f *testing.F) {
	f.Add("Page 3: derp is broken", ". Reply 3a to ack, 3c to resolve.", 1)
	f.Add(strings.Repeat("€", 200), " ok", 1)
	f.Add("🔥🔥🔥 disk full on db-1 and db-2", ". Reply 12a", 2)
	f.Add("", "", 0)
	f.Fuzz(func(t *testing.T, summary, suffix string, maxSegs int) {
		if !utf8.ValidString(summary) || !utf8.ValidString(suffix) || maxSegs > 10 {
			return
		}
		got := Fit(summary, suffix, maxSegs)
		if !strings.HasSuffix(got, suffix) {
			t.Fatalf("suffix lost: Fit(%q, %q, %d) = %q", summary, suffix, maxSegs, got)
		}
		limit := max(maxSegs, 1)
		if Segments(suffix) <= limit && Segments(got) > limit {
			t.Fatalf("Fit(%q, %q, %d) = %q has %d segments", summary, suffix, maxSegs, got, Segments(got))
		}
		head := strings.TrimSuffix(got, suffix)
		if head != summary {
			base := strings.TrimSuffix(head, Ellipsis)
			if !strings.HasPrefix(summary, base) {
				t.Fatalf("shortened summary %q is not a prefix of %q", head, summary)
			}
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid utf-8 %q", got)
		}
	})
}

func FuzzSplit(f *testing.F) {
	f.Add("hello")
	f.Add(strings.Repeat("a", 152) + "€b")
	f.Add(strings.Repeat("中", 66) + "🔥")
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) {
			return
		}
		parts, err := Split(text)
		if utf8.RuneCountInString(text) > MaxLength {
			if err == nil {
				t.Fatal("over-long text accepted")
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(parts, "") != text {
			t.Fatal("parts do not join back to the text")
		}
		if len(parts) != Segments(text) {
			t.Fatalf("%d parts but Segments = %d", len(parts), Segments(text))
		}
		enc := EncodingOf(text)
		single, part := capacities(enc)
		for _, p := range parts {
			if p == "" || !utf8.ValidString(p) {
				t.Fatalf("bad part %q", p)
			}
			n := 0
			for _, r := range p {
				n += cost(r, enc)
			}
			if limit := part; (len(parts) == 1 && n > single) || (len(parts) > 1 && n > limit) {
				t.Fatalf("part of %d units over capacity", n)
			}
		}
	})
}
