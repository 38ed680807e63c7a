package aggregate_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// Two processes publish requests, a high-water mark and latencies; a
// tool combines their files by policy: the requests add up, the peak is
// the larger one, and the percentiles are those of all the requests
// together, from the merged buckets (not the sum of the files' own).
func ExampleAccumulator() {
	dir, err := os.MkdirTemp("", "aggregate-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	for i, n := range []int{300, 100} {
		var s struct {
			Requests mmstats.Counter `mmstats:"requests"`
			Peak     mmstats.Int32   `mmstats:"inflight.peak,aggr=max"`
			Latency  mmstats.Timer   `mmstats:"latency,windows=none"`
		}
		f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("worker%d.mmstats", i)})
		if err != nil {
			panic(err)
		}
		for k := 1; k <= n; k++ {
			s.Requests.Inc()
			s.Latency.Observe(time.Duration(k*(i+1)) * time.Millisecond) // 1-300 ms, and 2-200 ms
		}
		s.Peak.Set(int32(8 + i))
		f.Close() // the file stays, as a dead process's would
	}

	var acc aggregate.Accumulator
	paths, _ := filepath.Glob(filepath.Join(dir, "*.mmstats"))
	for _, p := range paths {
		f, err := reader.Open(p)
		if err != nil {
			panic(err)
		}
		if err := acc.AddFile(f); err != nil {
			fmt.Println(err)
		}
		f.Close()
	}
	for _, label := range []string{"requests", "inflight.peak", "latency.count", "latency.p50", "latency.p99", "latency.max"} {
		t, _ := acc.Total(label)
		if t.Value.Kind() == reader.Float {
			fmt.Printf("%-14s %-8s %.3g\n", label, t.Policy, t.Value.Float())
		} else {
			fmt.Printf("%-14s %-8s %s\n", label, t.Policy, t.AppendText(nil))
		}
	}
	// The exact p50 and p99 of the 400 durations are 134 ms and 296 ms.
	//
	// Output:
	// requests       sum      400
	// inflight.peak  max      9
	// latency.count  sum      400
	// latency.p50    quantile 0.134
	// latency.p99    quantile 0.296
	// latency.max    max      0.3
}

// A percentile stat names its histogram and its quantile.
func ExampleQuantileOf() {
	head, q, _ := aggregate.QuantileOf("web.timers.request.p999")
	fmt.Println(head, q)
	// Output: web.timers.request 0.999
}

// Integers add up exactly, past 64 bits.
func ExampleNumber() {
	var n aggregate.Number
	n.AddUint(math.MaxUint64)
	n.AddUint(math.MaxUint64)
	n.AddInt(-1)
	fmt.Println(n.String(), n.Value().Kind())
	// Output: 36893488147419103229 float
}

// Without metadata (Python's files) a field sums, as the tools always
// did; the Go writer's timestamps take the latest.
func ExamplePolicyOf() {
	fmt.Println(aggregate.PolicyOf(reader.Meta{}))
	fmt.Println(aggregate.PolicyOf(reader.Meta{Kind: reader.KindTimestamp}))
	fmt.Println(aggregate.PolicyOf(reader.Meta{Kind: reader.KindGauge, Aggregation: aggregate.Max}))
	// Output:
	// sum
	// latest
	// max
}
