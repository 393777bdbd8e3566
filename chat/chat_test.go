package chat

import "testing"

func TestHeadline(t *testing.T) {
	for _, tc := range []struct {
		event, by, want string
	}{
		{PageOpened, "joe", "Page 3 [open]: derp is broken"},
		{PageAcked, "alice", "Page 3 [acked by alice]: derp is broken"},
		{PageResolved, "", "Page 3 [resolved]: derp is broken"},
		{PageEscalated, "", ""},
	} {
		if got := Headline(3, tc.event, tc.by, "derp is broken"); got != tc.want {
			t.Errorf("Headline(%s, %q) = %q, want %q", tc.event, tc.by, got, tc.want)
		}
	}
}
