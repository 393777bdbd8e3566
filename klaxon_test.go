package klaxon_test

import (
	"testing"

	"github.com/klaxonhq/klaxon"
)

// TestMedium_Capabilities pins what each medium can do: code asks these,
// never a medium's name, so a new medium is one declaration.
func TestMedium_Capabilities(t *testing.T) {
	tests := []struct {
		m                                                     klaxon.Medium
		valid, phone, optOuts, perSender, replies, hasSubject bool
	}{
		{klaxon.SMS, true, true, true, true, true, false},
		{klaxon.Voice, true, true, true, true, false, false},
		{klaxon.Email, true, false, false, false, false, true},
		{klaxon.IRC, true, false, false, false, false, false},
		{klaxon.Matrix, true, false, false, false, false, false},
		{"fax", false, false, false, false, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.m), func(t *testing.T) {
			got := []bool{tt.m.Valid(), tt.m.IsPhone(), tt.m.HasOptOuts(), tt.m.RateLimitedPerSender(), tt.m.TakesReplies(), tt.m.HasSubject()}
			want := []bool{tt.valid, tt.phone, tt.optOuts, tt.perSender, tt.replies, tt.hasSubject}
			for i, name := range []string{"Valid", "IsPhone", "HasOptOuts", "RateLimitedPerSender", "TakesReplies", "HasSubject"} {
				if got[i] != want[i] {
					t.Errorf("%s = %v, want %v", name, got[i], want[i])
				}
			}
		})
	}
}

// TestMedium_ChatNetwork pins which bridge says each chat medium, and that
// every medium Klaxon lists is valid.
func TestMedium_ChatNetwork(t *testing.T) {
	want := map[klaxon.Medium]string{klaxon.IRC: "irc", klaxon.Matrix: "matrix"}
	for _, m := range klaxon.Media() {
		if !m.Valid() {
			t.Errorf("%s is listed but not valid", m)
		}
		if got := m.ChatNetwork(); got != want[m] || m.IsChat() != (want[m] != "") {
			t.Errorf("%s: ChatNetwork = %q, IsChat = %v; want %q", m, got, m.IsChat(), want[m])
		}
	}
	if len(klaxon.Media()) != 5 {
		t.Errorf("Media() = %v", klaxon.Media())
	}
}
