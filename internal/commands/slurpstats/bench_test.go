package slurpstats

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/internal/cli"
)

// BenchmarkRun reads 10,000 small files, the size of the benchmark against
// cat(1) (slurpstats must stay within twice its time).
func BenchmarkRun(b *testing.B) {
	dir := b.TempDir()
	for i := range 10000 {
		writeStats(b, filepath.Join(dir, fmt.Sprintf("bench-%05d.mmstats", i)),
			field{"web.stats.requests", "Q", u64(uint64(i))},
			field{"web.stats.status", "32s", str("running", 32)},
			field{"web.stats.latency", "d", f64(math.Pi)},
			field{"sys.pid", "I", u64(uint64(i))[:4]},
			field{"org.python.version", "256s", str("3.11.7 (main, May  9 2026, 07:35:25)", 256)},
		)
	}
	for _, f := range formatNames {
		b.Run(f, func(b *testing.B) {
			for b.Loop() {
				o := &Options{Streams: &cli.Streams{Out: io.Discard, Err: io.Discard}, Output: Format(f), Args: []string{dir}}
				if err := Run(o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
