package irc

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Message
	}{
		{"command only", "PING\r\n", Message{Command: "PING"}},
		{"trailing with spaces", ":irc.test PING :a b c", Message{Source: Prefix{Nick: "irc.test"}, Command: "PING", Params: []string{"a b c"}}},
		{"user prefix", ":joe!~j@host.example PRIVMSG #ops :hi there", Message{
			Source: Prefix{Nick: "joe", User: "~j", Host: "host.example"}, Command: "PRIVMSG", Params: []string{"#ops", "hi there"}}},
		{"empty trailing", "TOPIC #ops :", Message{Command: "TOPIC", Params: []string{"#ops", ""}}},
		{"runs of spaces", "  NOTICE   a   b  :c", Message{Command: "NOTICE", Params: []string{"a", "b", "c"}}},
		{"lower-case command", "privmsg x y", Message{Command: "PRIVMSG", Params: []string{"x", "y"}}},
		{"numeric", ":s 433 * klaxon :Nickname is already in use", Message{Source: Prefix{Nick: "s"}, Command: "433", Params: []string{"*", "klaxon", "Nickname is already in use"}}},
		{"tags escaped", `@a=b\sc\:d\\e\rf\ng;flag;x=\q;end=\ :s CMD`, Message{
			Tags:   map[string]string{"a": "b c;d\\e\rf\ng", "flag": "", "x": "q", "end": ""},
			Source: Prefix{Nick: "s"}, Command: "CMD"}},
		{"client tag", "@+example.com/x=1;time=2026-01-01T00:00:00Z PRIVMSG #a :b", Message{
			Tags: map[string]string{"+example.com/x": "1", "time": "2026-01-01T00:00:00Z"}, Command: "PRIVMSG", Params: []string{"#a", "b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.line)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.line, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Parse(%q) = %#v, want %#v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParse_RefusesWhatIsNoMessage(t *testing.T) {
	for _, line := range []string{"", "   ", "@tags-only", ":prefix-only", "@a=b :p", "PRIV\x00MSG a", "CMD a\rb", ":p :cmd", "CMD-X a", "\x01"} {
		if m, err := Parse(line); err == nil {
			t.Errorf("Parse(%q) = %#v, want an error", line, m)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"trailing gets a colon when it has a space", Message{Command: "PRIVMSG", Params: []string{"#a", "hello world"}}, "PRIVMSG #a :hello world"},
		{"single word needs none", Message{Command: "JOIN", Params: []string{"#a,#b"}}, "JOIN #a,#b"},
		{"empty last", Message{Command: "TOPIC", Params: []string{"#a", ""}}, "TOPIC #a :"},
		{"colon-started last", Message{Command: "PRIVMSG", Params: []string{"x", ":)"}}, "PRIVMSG x ::)"},
		{"tags sorted and escaped", Message{Tags: map[string]string{"b": "x y;z\\", "a": ""}, Command: "TAGMSG", Params: []string{"#a"}}, `@a;b=x\sy\:z\\ TAGMSG #a`},
		{"source", Message{Source: Prefix{Nick: "n", User: "u", Host: "h"}, Command: "PING", Params: []string{"x"}}, ":n!u@h PING x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Format(tt.msg)
			if err != nil || got != tt.want {
				t.Fatalf("Format = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestFormat_RefusesInjection(t *testing.T) {
	for name, m := range map[string]Message{
		"CR LF in text":       {Command: "PRIVMSG", Params: []string{"#a", "hi\r\nQUIT :bye"}},
		"space in middle":     {Command: "PRIVMSG", Params: []string{"#a b", "x"}},
		"empty middle":        {Command: "PRIVMSG", Params: []string{"", "x"}},
		"colon middle":        {Command: "PRIVMSG", Params: []string{":a", "x"}},
		"no command":          {Params: []string{"x"}},
		"space in command":    {Command: "PRIV MSG"},
		"NUL in tag value":    {Tags: map[string]string{"a": "\x00"}, Command: "X"},
		"semicolon in tagkey": {Tags: map[string]string{"a;b": "1"}, Command: "X"},
	} {
		if line, err := Format(m); err == nil {
			t.Errorf("%s: Format = %q, want an error", name, line)
		}
	}
}

// FuzzParse: no input crashes Parse, and whatever it accepts formats back
// into a line that parses to the same message.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		":joe!~j@h PRIVMSG #ops :hi there", `@a=b\sc\:d\\;e :s 001 me :Welcome me!u@h`, "PING :x",
		"CAP * LS * :sasl=PLAIN,EXTERNAL message-tags", "@+x= :a!b@c TAGMSG #c", "@;;=; X", ":\x01 Y :\x01ACTION\x01",
		strings.Repeat("a ", 300), "@" + strings.Repeat("k=v;", 200) + " CMD",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := Parse(line)
		if err != nil {
			return
		}
		out, err := Format(m)
		if err != nil {
			t.Fatalf("Parse(%q) = %#v, which Format refuses: %v", line, m, err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Format gave %q, which Parse refuses: %v", out, err)
		}
		if len(m.Tags) == 0 {
			m.Tags = nil
		}
		if len(again.Tags) == 0 {
			again.Tags = nil
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip of %q:\n got %#v\nwant %#v", line, again, m)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	line := "@time=2026-12-03T08:49:41.536Z;msgid=904~1796287778~0;account=joe :joe!~joe@host.example.com PRIVMSG #ops :klaxon: sms alice where are you? the database is on fire"
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := Parse(line); err != nil {
			b.Fatal(err)
		}
	}
}
