//go:build unix

package pollstats

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// BenchmarkInterval measures one interval (read 1,000 files × 4 fields,
// sum, format and write a line) in the three cases: a fixed list of
// files; a directory that has not changed (one stat); and a directory
// that changed, listed again and reconciled with the open files. It
// reports the wall time and the CPU time (user + system) per interval.
func BenchmarkInterval(b *testing.B) {
	dir := b.TempDir()
	var paths []string
	var ws []*writer
	for i := range 1000 {
		w := newWriter(b, dir, fmt.Sprintf("bench-%04d.mmstats", i))
		w.OK.Add(uint64(i))
		ws = append(ws, w)
		paths = append(paths, w.f.Path())
	}
	mixed := []string{"status.2XX", "status.5XX", "load", "up"}
	words := []string{"status.2XX", "status.5XX", "load", "temp"} // all 8-byte sums: the hot loop
	for _, bc := range []struct {
		name    string
		args    []string
		changed bool
		fields  []string
	}{
		{"files", paths, false, mixed},
		{"dir", []string{dir}, false, mixed},
		{"dir-changed", []string{dir}, true, mixed},
		{"dir-words", []string{dir}, false, words},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := &Options{Prefix: "web.stats", Fields: bc.fields, Args: bc.args, Delay: time.Second}
			p := quietPoller(b, o)
			if len(p.active) != 1000 {
				b.Fatalf("%d files summed, want 1000", len(p.active))
			}
			v := newView(o, p)
			// Past the directory's racy window, as in a steady run.
			now := time.Now().Add(2 * racyWindow)
			cpu0 := cpuTime()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ws[0].OK.Inc()
				if bc.changed {
					for _, d := range p.src.dirs {
						d.looked = false
					}
				}
				if err := v.line(now); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/interval")
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/interval")
		})
	}
}

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIntervalMerged measures one interval of the merged view over
// 1,000 files of timers: each file's histogram buckets (15 KiB) are read
// and merged, and the p50 and p99 computed from the merge, next to a
// rate (a sum) and a max.
func BenchmarkIntervalMerged(b *testing.B) {
	dir := b.TempDir()
	for i := range 1000 {
		s := new(policyStats)
		f, err := mmstats.New(s, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("bench-%04d.mmstats", i)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		for k := range 100 {
			s.Lat.Observe(time.Duration(k*(i%7+1)) * time.Microsecond)
		}
		s.Peak.Set(int32(i))
		f.Refresh()
	}
	o := &Options{Fields: []string{"lat.p50", "lat.p99", "lat.rate10s", "peak"}, Args: []string{dir}, Delay: time.Second}
	p := quietPoller(b, o)
	v := newView(o, p)
	now := time.Now().Add(2 * racyWindow)
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if err := v.line(now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/interval")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/interval")
}
