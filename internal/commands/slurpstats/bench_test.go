package slurpstats

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// BenchmarkRun reads 10,000 small files, the size of the benchmark against
// cat(1) (slurpstats must stay within twice its time).
func BenchmarkRun(b *testing.B) {
	dir := b.TempDir()
	for i := range 10000 {
		v1file.Write(b, filepath.Join(dir, fmt.Sprintf("bench-%05d.mmstats", i)),
			v1file.Unbuffered("web.stats.requests", "Q", v1file.U64(uint64(i))),
			v1file.Unbuffered("web.stats.status", "32s", v1file.Str("running", 32)),
			v1file.Unbuffered("web.stats.latency", "d", v1file.F64(math.Pi)),
			v1file.Unbuffered("sys.pid", "I", v1file.U64(uint64(i))[:4]),
			v1file.Unbuffered("org.python.version", "256s", v1file.Str("3.11.7 (main, May  9 2026, 07:35:25)", 256)),
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
