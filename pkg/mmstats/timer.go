package mmstats

import (
	"math"
	"time"
)

// Timer measures durations (Python's TimerField): its main stat is the
// moving average of the last Window durations in seconds, as in Python,
// and, as a Histogram in seconds, it also publishes .count (with the
// bucket counts that readers merge across processes), .sum, .min, .max,
// the .p50 to .p999 percentiles and, per time window, .avg10s, .rate10s
// and so on. Recording is lock-free and does not allocate. Its memory is
// a Histogram's.
type Timer struct {
	// Window is how many of the latest durations the main stat averages;
	// 0 means DefaultWindow. Struct tag: window=N.
	Window int
	// Windows are the time windows; nil means DefaultWindows, an empty
	// slice none. Struct tag: windows=10s|1m or windows=none.
	Windows []time.Duration
	// Min and Max are the range of durations the buckets resolve to
	// 0.54%; 0 means the default, 2^-22 s (0.24 µs) to 256 s. Durations
	// outside are counted apart, and a percentile that lands among them
	// reports the min or the max recorded. Struct tag: range=1us:10s.
	// Window, Min and Max are read on the first Observe or when the field
	// is added to a file, whichever comes first.
	Min, Max time.Duration

	h Histogram
}

func (t *Timer) claim() bool { return t.h.claim() }
func (t *Timer) unclaim()    { t.h.unclaim() }

// load returns the state, allocating it on first use.
func (t *Timer) load() *histState {
	if st := t.h.state.Load(); st != nil {
		return st
	}
	return t.init()
}

// init allocates the state with the Timer's settings.
//
//go:noinline
func (t *Timer) init() *histState {
	return t.h.init(t.Window, t.Min.Seconds(), t.Max.Seconds(), "seconds")
}

func (t *Timer) parts(o fieldOptions) ([]part, error) {
	if err := histOptions("Timer", o); err != nil {
		return nil, err
	}
	if o.unitSet && o.unit != "seconds" {
		return nil, modelError("a Timer's unit is seconds, not %q (use a Histogram for other units)", o.unit)
	}
	if _, _, err := histWindow(t.Min.Seconds(), t.Max.Seconds(), "seconds"); err != nil {
		return nil, err
	}
	return histParts("seconds", windowsOr(t.Windows), t.load())
}

func (t *Timer) initialParts([]byte, []placement) {}

func (t *Timer) bindParts(f *File, mem []byte, ps []placement) {
	t.h.pub = newHistPublisher(t.load(), windowsOr(t.Windows), f.opts.RefreshInterval, mem, ps)
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
	case "range":
		lo, hi, err := parseRange(value, func(s string) (float64, error) {
			d, err := time.ParseDuration(s)
			return float64(d), err
		})
		t.Min, t.Max = time.Duration(lo), time.Duration(hi)
		return err
	}
	return modelError("Timer takes window=N, windows=D|D and range=MIN:MAX (durations), not %s", key)
}

// Observe records a duration.
func (t *Timer) Observe(d time.Duration) {
	// load, spelled out: it is a little too large to be inlined.
	st := t.h.state.Load()
	if st == nil {
		st = t.init()
	}
	// float64(d) is exact below 2^53 ns (104 days), and one division is
	// cheaper than Duration.Seconds.
	st.observe(float64(d) / 1e9)
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
	return time.Duration(math.Round(t.load().last() * float64(time.Second)))
}

// Value returns the moving average of the last Window durations, in
// seconds.
func (t *Timer) Value() float64 { return t.load().movingAverage() }

// Count returns the number of durations recorded.
func (t *Timer) Count() uint64 { return t.load().n.Load() }

// Quantile estimates the q-quantile of the durations recorded (within
// 1%), as the published percentiles do. It does not allocate.
func (t *Timer) Quantile(q float64) time.Duration {
	return time.Duration(t.load().quantile(q) * float64(time.Second))
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
