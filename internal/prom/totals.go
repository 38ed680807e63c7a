package prom

import (
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// AddTotals adds the stats of many files combined by their policies (an
// aggregate.Accumulator's Totals, and groups, the merged histograms of
// its histogram groups): one series per stat, named and typed as
// AddFileGroups names them, with no label at all, so that processes
// that come and go (a prefork server recycling its workers, folded into
// a totals file) make no series come and go. The stats that are not
// combined into one value are left out: info (a PID, static numbers),
// whose files each have their own, and sums or means over values that
// are not all numbers. A group stands for its stats as in
// AddFileGroups: one histogram series of the merged buckets.
func (s *Set) AddTotals(totals []aggregate.Total, groups []Group) {
	stats := make([]reader.Stat, 0, len(totals))
	for i := range totals {
		t := &totals[i]
		switch {
		case t.Policy == aggregate.None, !t.Value.Kind().Numeric():
			continue
		case t.From != "" && (t.Policy == aggregate.Sum || t.Policy == aggregate.Avg || t.Policy == aggregate.WeightedAvg):
			continue // values that are not all numbers
		}
		stats = append(stats, reader.Stat{Label: t.Label, Value: t.Value, Meta: t.Meta})
	}
	s.addStats(nil, "", stats, groups, false)
}
