package simulator_test

import (
	"testing"
)

// BenchmarkCreateMessage measures REST message creation through twilio-go
// over real HTTP, status callbacks included.
func BenchmarkCreateMessage(b *testing.B) {
	b.Run("no callback", func(b *testing.B) {
		e := newEnv(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.api.CreateMessage(sms(klaxonNum, alice, "Page 3: derp is broken.", "")); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("with callbacks", func(b *testing.B) {
		e := newEnv(b)
		cb := e.hooks.URL + "/status"
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.api.CreateMessage(sms(klaxonNum, alice, "Page 3: derp is broken.", cb)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		e := newEnv(b)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.api.CreateMessage(sms(klaxonNum, alice, "Page 3: derp is broken.", "")); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
