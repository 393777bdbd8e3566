package irc

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/testenv"
)

// BenchmarkFloodNgircd sends 500 lines through the client's flood control
// to a real ngircd with its default penalties and reports the lines a
// second held, all received by another client in order, with the bot
// never dropped. BENCH_RATE-like tuning is by sub-benchmark: the default
// 1 line/s would take over eight minutes, so it runs at the rates ngircd
// is measured to sustain.
func BenchmarkFloodNgircd(b *testing.B) {
	for _, rate := range []float64{3} {
		b.Run(fmt.Sprintf("rate=%g", rate), func(b *testing.B) {
			s := testenv.StartNgircd(b, testenv.IRCOptions{})
			joe := dialPeer(b, s.Addr, "joe")
			joe.join("#ops")
			bt := startBot(b, Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}, Burst: 5, Rate: rate})
			bt.connected(b)
			joe.expect("the bot joining", 10*time.Second, func(m Message) bool { return m.Command == "JOIN" && m.Source.Nick == "klaxon" })
			const n = 500
			var maxLag time.Duration
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				sent := make(chan time.Time, n)
				go func() {
					for j := range n {
						if err := bt.Say(context.Background(), "#ops", fmt.Sprintf("%d/%d the database is on fire", i, j)); err != nil {
							b.Error(err)
							return
						}
						sent <- time.Now()
					}
				}()
				for j := range n {
					m := joe.expect(fmt.Sprintf("line %d", j), time.Minute, func(m Message) bool { return m.Command == "PRIVMSG" })
					if want := fmt.Sprintf("%d/%d the database is on fire", i, j); m.Param(1) != want {
						b.Fatalf("got %q, want %q", m.Param(1), want)
					}
					maxLag = max(maxLag, time.Since(<-sent))
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if !bt.Connected() {
				b.Fatal("the bot was dropped")
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "lines/s")
			b.ReportMetric(float64(maxLag.Milliseconds()), "max-lag-ms")
		})
	}
}
