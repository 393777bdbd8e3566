package activities

import "testing"

func TestRedactNumbers(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pool unreachable for +15557770001", "pool unreachable for +1********01"},
		{"buy number: (21422) +1 555 777 0001 is not available", "buy number: (21422) +1********01 is not available"},
		{"http 503", "http 503"},
		{"error code 21422", "error code 21422"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactNumbers(tt.in); got != tt.want {
			t.Errorf("RedactNumbers(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
