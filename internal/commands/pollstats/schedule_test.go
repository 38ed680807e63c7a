package pollstats

import (
	"io"
	"os"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
)

func TestNextPoll(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05.000", "2026-01-02 "+s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		due, now string
		delay    time.Duration
		want     string
	}{
		// Whole seconds: the nearest half second of the wall clock.
		{"10:00:00.123", "10:00:00.123", time.Second, "10:00:01.500"},
		{"10:00:00.900", "10:00:00.900", time.Second, "10:00:01.500"},
		{"10:00:00.999", "10:00:00.999", time.Second, "10:00:01.500"},
		{"10:00:00.000", "10:00:00.000", time.Second, "10:00:01.500"},
		{"10:00:00.000", "10:00:00.000", 2 * time.Second, "10:00:02.500"},
		{"10:00:01.500", "10:00:01.502", time.Second, "10:00:02.500"}, // on phase: stays there
		{"10:00:01.500", "10:00:01.502", 5 * time.Second, "10:00:06.500"},
		{"10:00:01.497", "10:00:01.497", time.Second, "10:00:02.500"}, // the wall clock stepped: back on phase
		{"10:00:01.500", "10:00:09.100", time.Second, "10:00:10.500"}, // fell behind: from now
		// Other delays: every delay from the last, as before.
		{"10:00:00.123", "10:00:00.123", 500 * time.Millisecond, "10:00:00.623"},
		{"10:00:00.123", "10:00:00.200", 1500 * time.Millisecond, "10:00:01.623"},
		{"10:00:00.123", "10:00:05.000", 200 * time.Millisecond, "10:00:05.200"},
	} {
		got := nextPoll(at(c.due), at(c.now), c.delay)
		if !got.Equal(at(c.want)) {
			t.Errorf("nextPoll(%s, %s, %v) = %s, want %s", c.due, c.now, c.delay, got.Format("15:04:05.000"), c.want)
		}
	}
}

// The command's polls with -d 1 fall on the half second of its clock,
// each a second after the last: every interval spans one refresh of the
// writers.
func TestPollsOnThePhase(t *testing.T) {
	dir := t.TempDir()
	newWriter(t, dir, "a.mmstats")
	clock := time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC)
	var polls []time.Time
	streams := &cli.Streams{Out: io.Discard, Err: io.Discard}
	cmd := NewCmd(streams, func(o *Options) error {
		o.clock = func() time.Time { return clock }
		o.after = func(d time.Duration) <-chan time.Time {
			clock = clock.Add(d) // the wait, on the fake clock
			polls = append(polls, clock)
			c := make(chan time.Time, 1)
			c <- clock
			return c
		}
		o.notify, o.stop = func(chan<- os.Signal) {}, func(chan<- os.Signal) {}
		return Run(o)
	})
	cmd.SetArgs([]string{"-c", "4", "-d", "1", "-p", "web.stats.status", "2XX", dir})
	if code := cli.Main(cmd, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if len(polls) != 4 {
		t.Fatalf("%d polls, want 4", len(polls))
	}
	for i, p := range polls {
		if p.Nanosecond() != int(pollPhase) {
			t.Errorf("poll %d at %s: not on the half second", i, p.Format("15:04:05.000"))
		}
		if i > 0 && p.Sub(polls[i-1]) != time.Second {
			t.Errorf("poll %d %v after the one before, want 1s", i, p.Sub(polls[i-1]))
		}
	}
}
