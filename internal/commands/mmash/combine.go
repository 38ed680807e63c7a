package mmash

import (
	"fmt"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// policyAggr is the ?aggr= value that combines each label's values by
// its own policy (pkg/aggregate): counters and gauges sum, timestamps
// take the latest, percentiles come from the merged buckets, and so on.
// It is not one of the original's aggregators: those keep their names
// and their Python results.
const policyAggr = "policy"

// listAggr is the ?aggr= value that lists each label's values file by
// file, {label: [values]}: what the original mmash served with no aggr.
// With no aggr this mmash combines by policy, so that the number a
// client gets for a label is the right one for the whole directory.
const listAggr = "list"

// combiner combines the stats of a request's files by policy, through an
// aggregate.Accumulator, and counts what the merged histograms keep
// against the request's memory.
type combiner struct {
	acc     aggregate.Accumulator
	groups  []prom.Group
	buckets map[string]int // the buckets of each merged histogram, as counted
}

// add feeds the stats of one file (named name, open as f) whose labels
// want chooses, and those that their policies need (a weighted mean's
// count, the file's sys.created, a percentile's histogram).
func (c *combiner) add(j *job, name string, f *reader.File, stats []reader.Stat, want func(label string) bool) error {
	var weights, heads map[string]bool
	created := false
	for i := range stats {
		st := &stats[i]
		if !want(st.Label) {
			continue
		}
		weight, needCreated, head := aggregate.Inputs(st.Label, st.Meta)
		created = created || needCreated
		if weight != "" {
			weights = setAdd(weights, weight)
		}
		if head != "" {
			heads = setAdd(heads, head)
		}
	}
	c.acc.Begin(name)
	defer c.acc.End()
	for i := range stats {
		st := &stats[i]
		if want(st.Label) || weights[st.Label] || created && convention.DefaultField(st.Label) == convention.Created {
			c.acc.Add(st)
		}
	}
	if len(heads) == 0 {
		return nil
	}
	// A group whose buckets cannot be read is left out: its
	// percentiles count it as Missing.
	c.groups, _ = prom.ReadGroups(f, c.groups)
	n := 0
	for i := range c.groups {
		g := &c.groups[i]
		if !heads[g.Label] || g.Err != nil || c.acc.AddHistogram(g.Label, &g.H) != nil {
			continue
		}
		if c.buckets == nil {
			c.buckets = map[string]int{}
		}
		if m := len(c.acc.Histogram(g.Label).Counts); m > c.buckets[g.Label] {
			n += 8 * (m - c.buckets[g.Label])
			c.buckets[g.Label] = m
		}
	}
	return j.grow(n)
}

func setAdd(m map[string]bool, k string) map[string]bool {
	if m == nil {
		m = map[string]bool{}
	}
	m[k] = true
	return m
}

// combined reports whether a Total is one value: not when its policy is
// none (a PID: each file's value is its own), nor when a sum or a mean
// met values that are not numbers.
func combined(t *aggregate.Total) bool {
	switch t.Policy {
	case aggregate.None:
		return false
	case aggregate.Sum, aggregate.Avg, aggregate.WeightedAvg:
		return t.From == ""
	}
	return true
}

// appendTotalJSON appends the value of a combined Total as JSON: a sum of
// integers exactly, whatever its size; a percentile without any
// histogram is null.
func appendTotalJSON(b []byte, t *aggregate.Total) []byte {
	switch {
	case t.Value.Kind() == reader.Invalid:
		return append(b, "null"...)
	case t.Policy == aggregate.Sum && !t.Sum.IsFloat():
		return t.Sum.AppendText(b)
	}
	return t.Value.AppendJSON(b)
}

// describe says how a Total was combined, for people: "sum", "max (in
// FILE)", "p99 of the merged buckets"...
func describe(t *aggregate.Total) string {
	var s string
	switch t.Policy {
	case aggregate.Sum:
		s = "sum"
	case aggregate.Max, aggregate.Min, aggregate.Latest:
		s = fmt.Sprintf("%s, in %s", t.Policy, t.From)
	case aggregate.Avg:
		s = "mean"
	case aggregate.WeightedAvg:
		weight, _, _ := aggregate.Inputs(t.Label, t.Meta)
		s = "mean weighted by " + weight
		if t.Missing > 0 {
			s = "mean (unweighted: a file has no " + weight + ")"
		}
	case aggregate.Quantile:
		head, _, _ := aggregate.QuantileOf(t.Label)
		s = t.Label[len(head)+1:] + " of the merged buckets"
		if t.Missing > 0 {
			s += fmt.Sprintf(" (%d of %d files without buckets left out)", t.Missing, t.Files)
		}
	default:
		s = t.Policy.String()
	}
	return s
}
