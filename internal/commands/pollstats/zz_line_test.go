package pollstats

import (
	"fmt"
	"io"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
)

func TestZZLine(t *testing.T) {
	dir := os.Getenv("ZZDIR")
	if dir == "" {
		t.Skip("no ZZDIR")
	}
	o := &Options{Streams: &cli.Streams{Out: io.Discard, Err: io.Discard}, Prefix: "web.stats",
		Fields: []string{"status.2XX", "status.3XX", "status.4XX", "status.5XX"}, Args: []string{dir}, Delay: time.Second}
	src, _ := newSources(cli.NewFileSet(o.Args))
	p, err := startPoller(o, src, &logger{w: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	v := newView(o, p)
	var ds, ss, hs []time.Duration
	for range 100 {
		time.Sleep(50 * time.Millisecond)
		now := time.Now()
		t0 := time.Now()
		p.poll(now)
		t1 := time.Now()
		v.format(now)
		t2 := time.Now()
		ds, ss = append(ds, t2.Sub(t1)), append(ss, t1.Sub(t0))
		_ = hs
	}
	for _, x := range [][]time.Duration{ss, ds} {
		sort.Slice(x, func(i, j int) bool { return x[i] < x[j] })
		fmt.Println("median", x[50], "p10", x[10], "p90", x[90], p.hot)
	}
}
