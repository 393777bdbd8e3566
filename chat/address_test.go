package chat_test

import (
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/chat"
)

func TestAddress(t *testing.T) {
	tests := []struct {
		network, in, want string
		ok                bool
	}{
		{chat.IRC, "joe", "joe", true},
		{chat.IRC, " @joe ", "joe", true},
		{chat.IRC, "not a nick", "", false},
		{chat.IRC, "joe,bob", "", false},
		{chat.IRC, strings.Repeat("j", 33), "", false},
		{chat.IRC, "", "", false},
		{chat.Matrix, "@alice:example.org", "@alice:example.org", true},
		{chat.Matrix, " @alice:localhost:8008 ", "@alice:localhost:8008", true},
		{chat.Matrix, "@a.b_c=d/e+f-g:127.0.0.1", "@a.b_c=d/e+f-g:127.0.0.1", true},
		{chat.Matrix, "@alice:[::1]:8448", "@alice:[::1]:8448", true},
		{chat.Matrix, "alice:example.org", "", false},
		{chat.Matrix, "@alice", "", false},
		{chat.Matrix, "@:example.org", "", false},
		{chat.Matrix, "@alice:", "", false},
		{chat.Matrix, "@al ice:example.org", "", false},
		{chat.Matrix, "@alice:exa_mple.org", "", false},
		{chat.Matrix, "@alice:example.org:80a", "", false},
		{chat.Matrix, "@alice:example..org", "", false},
		{chat.Matrix, "@alice:[zz]", "", false},
		{chat.Matrix, "@" + strings.Repeat("a", 250) + ":example.org", "", false},
		{"slack", "joe", "", false},
	}
	for _, tt := range tests {
		got, problem := chat.Address(tt.network, tt.in)
		if got != tt.want || (problem == "") != tt.ok {
			t.Errorf("Address(%s, %q) = %q, %q; want %q, ok %v", tt.network, tt.in, got, problem, tt.want, tt.ok)
		}
	}
}
