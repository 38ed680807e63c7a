package mmstats

import (
	"fmt"
	"strings"
	"time"

	"github.com/mmstats/mmstats/pkg/reader"
)

// DefaultWindows are the time windows of a Histogram or Timer whose
// Windows is nil: its ".avg10s", ".rate10s", ".avg1m" and ".rate1m" stats.
var DefaultWindows = []time.Duration{10 * time.Second, time.Minute}

// maxWindows bounds the number of time windows of one field.
const maxWindows = 8

// windowName names a window in a stat's label: 10s, 1m, 5m, 1h, 500ms.
func windowName(w time.Duration) string {
	switch {
	case w%time.Hour == 0:
		return fmt.Sprintf("%dh", w/time.Hour)
	case w%time.Minute == 0:
		return fmt.Sprintf("%dm", w/time.Minute)
	case w%time.Second == 0:
		return fmt.Sprintf("%ds", w/time.Second)
	}
	return fmt.Sprintf("%dms", w/time.Millisecond)
}

// parseWindows parses the tag option windows=10s|1m (or "none").
func parseWindows(value string) ([]time.Duration, error) {
	if value == "none" {
		return []time.Duration{}, nil
	}
	var out []time.Duration
	for _, s := range strings.Split(value, "|") {
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, modelError("windows=%q: %v", value, err)
		}
		out = append(out, d)
	}
	return out, checkWindows(out)
}

// checkWindows rejects windows that are not positive whole milliseconds,
// repeated, or too many.
func checkWindows(ws []time.Duration) error {
	if len(ws) > maxWindows {
		return modelError("%d time windows, at most %d", len(ws), maxWindows)
	}
	seen := map[string]bool{}
	for _, w := range ws {
		if w < time.Millisecond || w%time.Millisecond != 0 {
			return modelError("time window %v: want a positive number of milliseconds", w)
		}
		if seen[windowName(w)] {
			return modelError("time window %v given twice", w)
		}
		seen[windowName(w)] = true
	}
	return nil
}

// sample is one snapshot of a field's running totals, taken at a refresh.
type sample struct {
	at    time.Time
	count uint64  // events so far
	sum   float64 // sum of the values so far (histograms)
}

// history keeps snapshots far enough back to cover the longest window:
// historySize of them, at least span/(historySize-8) apart, so that
// refreshes more frequent than planned (File.Refresh calls) cannot push
// the oldest ones out early. It is used by one refresher goroutine only.
type history struct {
	ring    []sample
	next    int // where the next snapshot goes
	count   int // snapshots held
	spacing time.Duration
}

// historySize is the number of snapshots a history keeps.
const historySize = 128

func newHistory(windows []time.Duration, _ time.Duration) *history {
	var longest time.Duration
	for _, w := range windows {
		longest = max(longest, w)
	}
	return &history{ring: make([]sample, historySize), spacing: longest / (historySize - 8)}
}

// add records a snapshot, unless the last one is more recent than the
// spacing.
func (h *history) add(s sample) {
	if h.count > 0 {
		last := h.ring[(h.next-1+len(h.ring))%len(h.ring)]
		if s.at.Sub(last.at) < h.spacing {
			return
		}
	}
	h.ring[h.next] = s
	h.next = (h.next + 1) % len(h.ring)
	h.count = min(h.count+1, len(h.ring))
}

// since returns the baseline of a window of w ending at now: the oldest
// snapshot taken at most w before now, or the newest one if all are older.
// While the history is shorter than w, the window is as long as it.
func (h *history) since(now time.Time, w time.Duration) (sample, bool) {
	if h.count == 0 {
		return sample{}, false
	}
	oldest := (h.next - h.count + len(h.ring)) % len(h.ring)
	best := h.ring[oldest]
	for i := 0; i < h.count; i++ {
		s := h.ring[(oldest+i)%len(h.ring)]
		if now.Sub(s.at) <= w {
			return s, true
		}
		best = s
	}
	return best, true
}

// rate returns the events per second and the mean value over the window
// w ending at now, against the snapshot cur (taken at now).
func (h *history) rate(cur sample, w time.Duration) (perSecond, mean float64) {
	base, ok := h.since(cur.at, w)
	if !ok {
		return 0, 0
	}
	dt := cur.at.Sub(base.at).Seconds()
	if dt <= 0 || cur.count < base.count {
		return 0, 0
	}
	n := cur.count - base.count
	if n > 0 {
		mean = (cur.sum - base.sum) / float64(n)
	}
	return float64(n) / dt, mean
}

// windowParts returns the parts a field publishes for its windows: per
// window, the mean of the values (if withMean) and the rate. Across
// files, rates add up, and a mean is weighted by the rate of its window
// (the number of values it averages, per second).
func windowParts(windows []time.Duration, withMean bool, unit string) []part {
	var ps []part
	for _, w := range windows {
		name := windowName(w)
		if withMean {
			ps = append(ps, part{suffix: ".avg" + name, spec: doubleSpec,
				meta: reader.Meta{Kind: reader.KindGauge, Unit: unit, Aggregation: reader.AggrWeightedAvg}})
		}
		ps = append(ps, part{suffix: ".rate" + name, spec: doubleSpec, meta: reader.Meta{Kind: reader.KindGauge, Aggregation: Sum}})
	}
	return ps
}

var doubleSpec = spec{code: "d", size: 8}
