package aggregate_test

import (
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// writerEnv makes the test binary a writer process (see runWriter):
// "DIR INDEX".
const writerEnv = "AGGREGATE_TEST_WRITER"

func TestMain(m *testing.M) {
	if v := os.Getenv(writerEnv); v != "" {
		os.Exit(runWriter(v))
	}
	os.Exit(m.Run())
}

// writers is the number of writer processes of the merge test.
const writers = 5

// model is what each writer process publishes.
type model struct {
	Lat    mmstats.Timer     `mmstats:"lat"`
	Size   mmstats.Histogram `mmstats:"size,unit=bytes,windows=none"`
	Big    mmstats.Counter   `mmstats:"big"`
	Debt   mmstats.Int32     `mmstats:"debt"`
	Peak   mmstats.Uint64    `mmstats:"peak,aggr=max"`
	Seen   mmstats.Float64   `mmstats:"seen,kind=timestamp,unit=seconds"`
	Status mmstats.String    `mmstats:"status,size=16,aggr=latest"`
}

// seen are the values of the timestamp field, per writer: the third is
// the latest.
var seen = [writers]float64{1.8e9 + 3, 1.8e9 + 1, 1.8e9 + 9, 1.8e9 + 2, 1.8e9 + 5}

// latencies returns writer i's durations: a different distribution per
// writer, and a different number of them, from a fixed seed.
func latencies(i int) []time.Duration {
	return testutil.Latencies(i, 42, 100_000+25_000*i)
}

// sizes returns writer i's sizes in bytes.
func sizes(i int) []float64 {
	return testutil.Sizes(i, 7, 50_000)
}

// runWriter is a writer process: it publishes writer INDEX's values in
// DIR/wINDEX.mmstats, closes the file (which stays), prints its path.
func runWriter(arg string) int {
	dir, idx, _ := strings.Cut(arg, " ")
	i, _ := strconv.Atoi(idx)
	var m model
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("w%d.mmstats", i)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, d := range latencies(i) {
		m.Lat.Observe(d)
	}
	for _, s := range sizes(i) {
		m.Size.Observe(s)
	}
	m.Big.Set(1<<63 + uint64(i))
	m.Debt.Set(int32(-1000 - i))
	m.Peak.Set(uint64(100 * (i + 1)))
	m.Seen.Set(seen[i])
	m.Status.Set("writer " + idx)
	if err := f.Close(); err != nil { // publishes everything
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(f.Path())
	return 0
}

// startWriters runs the writer processes at once and returns their files.
func startWriters(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	paths := make([]string, writers)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", writerEnv, dir, i))
			out, err := cmd.Output()
			paths[i], errs[i] = strings.TrimSpace(string(out)), err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
		if paths[i] != filepath.Join(dir, fmt.Sprintf("w%d.mmstats", i)) {
			t.Fatalf("writer %d wrote %q", i, paths[i])
		}
	}
	return paths
}

// exactQuantile returns the value of rank ceil(q·n) of sorted values.
func exactQuantile(sorted []float64, q float64) float64 {
	r := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(r, 1), len(sorted))-1]
}

// bucketError is the documented bound of a percentile's relative error:
// half a schema-6 bucket, 2^(1/128)-1 = 0.54%.
var bucketError = math.Exp2(1.0/128) - 1

// TestMergeAcrossProcesses: 5 writer processes publish known, different
// latency and size distributions; their files, merged through
// pkg/reader and this package, give the p50, p90, p99 and p999 of all
// their values pooled within the bucket error; the merged p99 lies
// between the files' own p99s, never near their sum; timestamps take
// the latest, not the sum; integer sums are exact past 2^64.
func TestMergeAcrossProcesses(t *testing.T) {
	paths := startWriters(t)
	var acc aggregate.Accumulator
	perFile := make([]map[string]reader.Stat, writers)
	for i, p := range paths {
		f, err := reader.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.AddFile(f); err != nil {
			t.Fatal(err)
		}
		stats, err := f.Stats()
		if err != nil {
			t.Fatal(err)
		}
		perFile[i] = map[string]reader.Stat{}
		for _, s := range stats {
			perFile[i][s.Label] = s
		}
		f.Close()
	}
	total := func(label string) aggregate.Total {
		t.Helper()
		tot, ok := acc.Total(label)
		if !ok {
			t.Fatalf("no total for %s", label)
		}
		return tot
	}

	// Percentiles of the pooled values.
	var lat, size []float64
	for i := range writers {
		for _, d := range latencies(i) {
			lat = append(lat, float64(d)/1e9) // as Timer.Observe converts
		}
		size = append(size, sizes(i)...)
	}
	slices.Sort(lat)
	slices.Sort(size)
	for _, h := range []struct {
		name   string
		pooled []float64
	}{{"lat", lat}, {"size", size}} {
		merged := acc.Histogram(h.name)
		if merged == nil || merged.Count != uint64(len(h.pooled)) || merged.Total() != merged.Count {
			t.Fatalf("%s: merged histogram %v", h.name, merged)
		}
		if c := total(h.name + ".count"); c.Value.Uint() != uint64(len(h.pooled)) {
			t.Errorf("%s.count = %v, want %d", h.name, c.Value, len(h.pooled))
		}
		if lo, hi := total(h.name+".min"), total(h.name+".max"); lo.Value.Float() != h.pooled[0] || hi.Value.Float() != h.pooled[len(h.pooled)-1] {
			t.Errorf("%s: min %v, max %v; want %v, %v", h.name, lo.Value, hi.Value, h.pooled[0], h.pooled[len(h.pooled)-1])
		}
		for _, q := range []struct {
			q      float64
			suffix string
		}{{0.5, ".p50"}, {0.9, ".p90"}, {0.99, ".p99"}, {0.999, ".p999"}} {
			exact := exactQuantile(h.pooled, q.q)
			tot := total(h.name + q.suffix)
			got := tot.Value.Float()
			rel := math.Abs(got-exact) / exact
			t.Logf("%s%s: merged %.6g, exact %.6g of %d values pooled: %.3f%% off", h.name, q.suffix, got, exact, len(h.pooled), 100*rel)
			if tot.Policy != aggregate.Quantile || tot.Files != writers || tot.Missing != 0 || rel > bucketError*(1+1e-9) {
				t.Errorf("%s%s = %v (%s, %d files, %d missing), exact %v: %.3f%% off, more than %.3f%%",
					h.name, q.suffix, got, tot.Policy, tot.Files, tot.Missing, exact, 100*rel, 100*bucketError)
			}
		}
	}

	// The merged p99 among the files' own, never their sum.
	var own []float64
	var sum float64
	for i := range writers {
		p := perFile[i]["lat.p99"].Value.Float()
		own = append(own, p)
		sum += p
	}
	merged := total("lat.p99").Value.Float()
	lo, hi := slices.Min(own), slices.Max(own)
	t.Logf("lat.p99: merged %.6g; per file %.6g (the sum of them %.6g)", merged, own, sum)
	if merged < lo*(1-bucketError) || merged > hi*(1+bucketError) || merged >= sum*0.99 {
		t.Errorf("merged p99 %v outside the files' p99s [%v, %v] (sum %v)", merged, lo, hi, sum)
	}

	// The main stat, a moving average, is weighted by the files' counts.
	var wsum, wtot float64
	for i := range writers {
		c := perFile[i]["lat.count"].Value.Float()
		wsum += perFile[i]["lat"].Value.Float() * c
		wtot += c
	}
	if got := total("lat").Value.Float(); math.Abs(got-wsum/wtot) > 1e-12*got {
		t.Errorf("lat = %v, want the mean weighted by count %v", got, wsum/wtot)
	}

	// Timestamps: the latest, from its file.
	if s := total("seen"); s.Value.Float() != seen[2] || s.From != paths[2] || s.Policy != aggregate.Latest {
		t.Errorf("seen = %v from %s (%s), want %v from %s", s.Value, s.From, s.Policy, seen[2], paths[2])
	}
	newest, from := math.Inf(-1), ""
	for i := range writers {
		if c := perFile[i]["sys.created"].Value.Float(); c > newest {
			newest, from = c, paths[i]
		}
	}
	if c := total("sys.created"); c.Value.Float() != newest || c.From != from {
		t.Errorf("sys.created = %v from %s, want %v from %s", c.Value, c.From, newest, from)
	}
	if st := total("status"); st.Value.Str() != "writer "+strings.TrimSuffix(strings.TrimPrefix(filepath.Base(from), "w"), ".mmstats") || st.From != from {
		t.Errorf("status = %q from %s, want the newest file's (%s)", st.Value.Str(), st.From, from)
	}
	if pid := total("sys.pid"); pid.Policy != aggregate.None || pid.From != paths[0] || pid.Same {
		t.Errorf("sys.pid: %+v", pid)
	}

	// Integers add up exactly, past 2^64 and below 0.
	want := new(big.Int).Lsh(big.NewInt(writers), 63)
	want.Add(want, big.NewInt(writers*(writers-1)/2))
	if b := total("big"); string(b.AppendText(nil)) != want.String() {
		t.Errorf("big = %s, want %s", b.AppendText(nil), want)
	}
	if d := total("debt"); d.Value.Int() != -1000*writers-writers*(writers-1)/2 || d.Value.Kind() != reader.Int {
		t.Errorf("debt = %v", d.Value)
	}
	if p := total("peak"); p.Value.Uint() != 100*writers || p.From != paths[writers-1] {
		t.Errorf("peak = %v from %s", p.Value, p.From)
	}
}
