package paging_test

import (
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
)

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"user:alice", "user:alice", false},
		{"  USER:alice ", "user:alice", false},
		{"rotation:ops-east", "rotation:ops-east", false},
		{"policy:db.primary", "policy:db.primary", false},
		{"alice", "", true},
		{"user:", "", true},
		{"team:ops", "", true},
		{"user:Alice", "", true},
		{"user:al ice", "", true},
		{"user:-x", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := paging.ParseTarget(tc.in)
			if tc.wantErr {
				if klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
					t.Fatalf("ParseTarget(%q) = %v, %v; want an EInvalid error", tc.in, got, err)
				}
				return
			}
			if err != nil || got.String() != tc.want {
				t.Fatalf("ParseTarget(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestCanPage(t *testing.T) {
	if paging.CanPage(true, 0) || !paging.CanPage(true, 1) {
		t.Error("CanPage must need one verified contact method, and one is enough")
	}
	if paging.CanPage(false, 3) || paging.WhyNot("bob", false, 3) == "" || paging.WhyNot("bob", true, 1) != "" {
		t.Error("a deactivated person is never paged, whatever their contact methods")
	}
}
