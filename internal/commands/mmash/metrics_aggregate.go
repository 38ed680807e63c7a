package mmash

import (
	"sync"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// aggregateMetrics returns the exposition of --aggregate: one series per
// stat over all the default files, combined by policy (pkg/aggregate:
// counters summed, gauges by their policy, histograms merged), without a
// file or pid label (prom.Set.AddTotals), in the protobuf format if
// proto, gzip-compressed. The files are read in the order that counts
// each value once while writers are folded into totals files (see
// eachReader): live files, dead files not folded yet, and totals files,
// so that a counter neither drops nor jumps when a worker exits or dies,
// and the series stay the same while workers come and go.
func (j *job) aggregateMetrics(proto bool) ([]byte, error) {
	acc := j.s.accumulators.Get().(*aggregate.Accumulator)
	defer j.s.accumulators.Put(acc)
	acc.Reset()
	var groups []prom.Group
	var heads []string // the histogram groups, in the order first seen
	seen := map[string]bool{}
	j.wantGroups = true
	err := j.eachReader("", func(name string, f *reader.File, stats []reader.Stat) error {
		acc.Begin(name)
		defer acc.End()
		n := 0
		for i := range stats {
			acc.Add(&stats[i])
			if l := stats[i].Label; !seen[l] {
				seen[l] = true
				n += labelCost + 2*len(l)
			}
		}
		// A group whose buckets cannot be read is left out of the
		// merge: its percentiles count it as missing.
		gs, ok := j.cachedGroups(f) // read already
		if !ok {
			groups, _ = prom.ReadGroups(f, groups)
			gs = groups
		}
		for i := range gs {
			g := &gs[i]
			if g.Err != nil || acc.AddHistogram(g.Label, &g.H) != nil {
				continue
			}
			if !seen["\x00"+g.Label] {
				seen["\x00"+g.Label] = true
				heads = append(heads, g.Label)
			}
			n += 8 * len(g.H.Counts) // at most what the merge grows by
		}
		return j.grow(n)
	})
	if err != nil {
		return nil, err
	}
	totals := acc.Totals()
	merged := make([]prom.Group, 0, len(heads))
	for _, head := range heads {
		h := acc.Histogram(head)
		t, ok := acc.Total(head)
		if h == nil || !ok {
			continue
		}
		merged = append(merged, prom.Group{Label: head, Meta: t.Meta, H: *h})
	}
	j.s.monotone.apply(totals, merged)
	set := prom.Set{Classic: j.s.cfg.classic}
	set.AddTotals(totals, merged)
	return j.compress(&set, proto)
}

// monotone keeps the counters of --aggregate from going back by the
// rounding of floating-point sums. A counter of floats (seconds, say)
// is summed over the files in one order, and a file folded into the
// totals file is summed into it first: the two sums of the same values
// can differ in their last bits, and a counter that goes back by one
// bit is a counter reset for Prometheus, whose rate() then counts the
// whole value again. So a float counter (and a histogram's sum) that is
// below the value served last by no more than such rounding (a relative
// 1e-9) is served as it was; one that drops further is served as it is
// (a totals file removed by hand is a reset indeed).
type monotone struct {
	mu   sync.Mutex
	last map[string]float64 // by label; a histogram's sum by its head label and ".sum"
}

// roundingSlack is the relative drop that monotone takes for rounding.
const roundingSlack = 1e-9

func (m *monotone) apply(totals []aggregate.Total, groups []prom.Group) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// The counters of this answer only: those gone are forgotten.
	old := m.last
	m.last = make(map[string]float64, len(old))
	for i := range totals {
		t := &totals[i]
		if t.Meta.Kind != reader.KindCounter || t.Value.Kind() != reader.Float {
			continue
		}
		if v, ok := m.hold(old, t.Label, t.Value.Float()); ok {
			t.Value = reader.FloatValue(v)
		}
	}
	for i := range groups {
		g := &groups[i]
		if v, ok := m.hold(old, g.Label+".sum", g.H.Sum); ok {
			g.H.Sum = v
		}
	}
}

// hold returns the value to serve for v, the sum of key now, given the
// values served last, and whether it is not v.
func (m *monotone) hold(old map[string]float64, key string, v float64) (float64, bool) {
	last, ok := old[key]
	if ok && v < last && last-v <= roundingSlack*last {
		m.last[key] = last
		return last, true
	}
	m.last[key] = v
	return v, false
}
