package prom_test

import (
	"bytes"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/internal/prom/promtest"
	"github.com/mmstats/mmstats/internal/testutil/promfile"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// classicQuantile is histogram_quantile over classic buckets, as
// Prometheus computes it: the bucket where the rank falls, and linear
// interpolation inside it (from 0 in the first).
func classicQuantile(q float64, h *dto.Histogram) float64 {
	type bucket struct{ upper, count float64 }
	var bs []bucket
	for _, b := range h.GetBucket() {
		bs = append(bs, bucket{b.GetUpperBound(), float64(b.GetCumulativeCount())})
	}
	bs = append(bs, bucket{math.Inf(1), float64(h.GetSampleCount())})
	rank := q * bs[len(bs)-1].count
	b := sort.Search(len(bs)-1, func(i int) bool { return bs[i].count >= rank })
	if b == len(bs)-1 {
		return bs[len(bs)-2].upper
	}
	start, count := 0.0, bs[b].count
	if b > 0 {
		start = bs[b-1].upper
		count -= bs[b-1].count
		rank -= bs[b-1].count
	}
	return start + (bs[b].upper-start)*(rank/count)
}

// nativeQuantile is histogram_quantile over a native histogram as
// Prometheus 2.42 computes it: the zero bucket [0, threshold], then the
// positive buckets, linear interpolation inside the one where the rank
// falls.
func nativeQuantile(t *testing.T, q float64, h *dto.Histogram) float64 {
	buckets := promtest.NativeBuckets(t, h)
	idx := slices.Sorted(maps.Keys(buckets))
	rank := q * float64(h.GetSampleCount())
	lower, upper, count := 0.0, h.GetZeroThreshold(), float64(h.GetZeroCount())
	cum := count
	base := math.Exp2(math.Exp2(-float64(h.GetSchema())))
	for _, i := range idx {
		if cum >= rank {
			break
		}
		lower, upper, count = math.Pow(base, float64(i-1)), math.Pow(base, float64(i)), float64(buckets[i])
		cum += count
	}
	rank -= cum - count
	return lower + (upper-lower)*(rank/count)
}

// TestQuantileErrorOfBothResolutions: histogram_quantile over what a
// writer's Timer exports lands within the documented error of the exact
// quantile of its values: at each classic schema n, 2^(2^-n)-1 for the
// classic buckets (100% at 0, 9.05% at 3), and 2^(1/64)-1 for the
// native histogram.
func TestQuantileErrorOfBothResolutions(t *testing.T) {
	var s struct {
		Lat mmstats.Timer `mmstats:"lat,windows=none"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir(), Filename: "w.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	rng := rand.New(rand.NewPCG(5, 6))
	var exact []float64
	for range 20000 {
		d := time.Duration(0.003 * math.Exp(0.8*rng.NormFloat64()) * 1e9)
		s.Lat.Observe(d)
		exact = append(exact, float64(d)/1e9)
	}
	f.Refresh()
	slices.Sort(exact)
	stats, groups := promfile.Read(t, f.Path())
	for classic := range prom.MaxClassicSchema + 1 {
		set := prom.Set{Classic: classic}
		set.AddFileGroups(f.Path(), "", stats, groups)
		var text, pb bytes.Buffer
		set.WriteTo(&text)
		set.WriteProto(&pb)
		classicH := promtest.Parse(t, text.String())["mmstats_lat_seconds"].GetMetric()[0].GetHistogram()
		pbH := promtest.ParseProto(t, pb.Bytes())["mmstats_lat_seconds"].GetMetric()[0].GetHistogram()
		maxErr := classic.QuantileError()
		for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
			want := exact[int(math.Ceil(q*float64(len(exact))))-1]
			c, p, n := classicQuantile(q, classicH), classicQuantile(q, pbH), nativeQuantile(t, q, pbH)
			t.Logf("schema %d, p%g: exact %.6g, classic %.6g (%+.2f%%), native %.6g (%+.2f%%)", classic, q*100, want, c, 100*(c/want-1), n, 100*(n/want-1))
			if math.Abs(c/want-1) > maxErr {
				t.Errorf("schema %d, p%g: classic buckets give %v, exact %v: off by more than %.2f%%", classic, q*100, c, want, 100*maxErr)
			}
			if p != c {
				t.Errorf("schema %d, p%g: the classic buckets of the protobuf format give %v, those of the text %v", classic, q*100, p, c)
			}
			if math.Abs(n/want-1) > math.Exp2(1.0/64)-1 {
				t.Errorf("schema %d, p%g: the native histogram gives %v, exact %v: off by more than 1.09%%", classic, q*100, n, want)
			}
		}
	}
}

// TestQuantileErrorOfEachSchema: the errors that ClassicSchema and the
// flag's help state.
func TestQuantileErrorOfEachSchema(t *testing.T) {
	for c, want := range []float64{1, 0.4142, 0.1892, 0.0905} {
		if got := prom.ClassicSchema(c).QuantileError(); math.Abs(got-want) > 5e-5 {
			t.Errorf("schema %d: %v, want %v", c, got, want)
		}
	}
}
