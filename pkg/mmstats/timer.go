package mmstats

import (
	"math"
	"time"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Timer measures durations (Python's TimerField): its main stat is the
// moving average of the last Window durations in seconds, as in Python,
// and, as a Histogram in seconds, it also publishes .count, .sum, .min,
// .max, the .p50 to .p999 percentiles and, per time window, .avg10s,
// .rate10s and so on. Recording is lock-free and does not allocate.
type Timer struct {
	// Window is how many of the latest durations the main stat averages;
	// 0 means DefaultWindow. Struct tag: window=N.
	Window int
	// Windows are the time windows; nil means DefaultWindows, an empty
	// slice none. Struct tag: windows=10s|1m or windows=none.
	Windows []time.Duration

	h Histogram
}

func (t *Timer) claim() bool { return t.h.claim() }
func (t *Timer) unclaim()    { t.h.unclaim() }

func (t *Timer) parts(o fieldOptions) ([]part, error) {
	if o.kind != reader.KindUnknown {
		return nil, modelError("a Timer's kinds are fixed (gauges, and counters for .count and .sum): it takes no kind")
	}
	if o.unitSet && o.unit != "seconds" {
		return nil, modelError("a Timer's unit is seconds, not %q (use a Histogram for other units)", o.unit)
	}
	return histParts("seconds", windowsOr(t.Windows))
}

func (t *Timer) initialParts([]byte, []placement) {}

func (t *Timer) bindParts(f *File, mem []byte, ps []placement) {
	t.h.pub = newHistPublisher(t.h.get(t.Window), windowsOr(t.Windows), f.opts.RefreshInterval, newGroup(mem, ps))
	f.addRefresher(t.h.pub)
}

func (t *Timer) setOption(key, value string) error {
	switch key {
	case "window":
		n, err := positiveOption(key, value, maxWindow)
		t.Window = n
		return err
	case "windows":
		ws, err := parseWindows(value)
		t.Windows = ws
		return err
	}
	return modelError("Timer takes window=N and windows=D|D, not %s", key)
}

// Observe records a duration.
func (t *Timer) Observe(d time.Duration) {
	// float64(d) is exact below 2^53 ns (104 days), and one division is
	// cheaper than Duration.Seconds.
	t.h.get(t.Window).observe(float64(d) / 1e9)
}

// Start starts timing; call Stop on the result to record the duration.
func (t *Timer) Start() Stopwatch { return Stopwatch{timer: t, start: time.Now()} }

// Time runs fn and records how long it took.
func (t *Timer) Time(fn func()) time.Duration {
	s := t.Start()
	fn()
	return s.Stop()
}

// Last returns the last duration recorded.
func (t *Timer) Last() time.Duration {
	return time.Duration(math.Round(t.h.get(t.Window).last() * float64(time.Second)))
}

// Value returns the moving average of the last Window durations, in
// seconds.
func (t *Timer) Value() float64 { return t.h.get(t.Window).movingAverage() }

// Count returns the number of durations recorded.
func (t *Timer) Count() uint64 { return t.h.get(t.Window).n.Load() }

// Quantile estimates the q-quantile of the durations recorded (within 1%).
func (t *Timer) Quantile(q float64) time.Duration {
	out := make([]float64, 1)
	t.h.get(t.Window).quantiles([]float64{q}, out, make([]uint64, histBuckets))
	return time.Duration(out[0] * float64(time.Second))
}

// Stopwatch is one running measurement of a Timer.
type Stopwatch struct {
	timer *Timer
	start time.Time
}

// Elapsed returns the time since Start.
func (s Stopwatch) Elapsed() time.Duration { return time.Since(s.start) }

// Stop records the time since Start in the timer and returns it.
func (s Stopwatch) Stop() time.Duration {
	d := time.Since(s.start)
	s.timer.Observe(d)
	return d
}
