package bridge

import (
	"testing"

	"github.com/klaxonhq/klaxon"
)

// A page's thread says how each notification went out, in words, for
// every medium Klaxon knows.
func TestNotifiedBy_NamesEveryMedium(t *testing.T) {
	want := map[klaxon.Medium]string{
		klaxon.SMS: "texted", klaxon.Voice: "calling", klaxon.Email: "emailed",
		klaxon.IRC: "messaged", klaxon.Matrix: "messaged",
	}
	for _, m := range klaxon.Media() {
		if got := notifiedBy(m); got != want[m] {
			t.Errorf("notifiedBy(%s) = %q, want %q", m, got, want[m])
		}
	}
}
