package fold_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// model has a field of each kind that folding treats differently.
type model struct {
	Requests mmstats.Counter   `mmstats:"requests"`
	Rated    mmstats.Counter   `mmstats:"rated,windows=10s"`
	Bytes    mmstats.Uint64    `mmstats:"bytes,kind=counter,unit=bytes"`
	Seconds  mmstats.Float64   `mmstats:"busy,kind=counter,unit=seconds"`
	Peak     mmstats.Uint32    `mmstats:"peak,kind=counter,aggr=max"`
	Signed   mmstats.Int32     `mmstats:"signed,kind=counter"`
	InFlight mmstats.Int32     `mmstats:"inflight"` // a gauge: not folded
	Load     mmstats.Float64   `mmstats:"load,aggr=max"`
	State    mmstats.String    `mmstats:"state,size=8"`
	Latency  mmstats.Timer     `mmstats:"latency"`
	Sizes    mmstats.Histogram `mmstats:"sizes,unit=bytes,range=16:65536,windows=none"`
}

// lifetime writes the file of one process's lifetime into dir with the
// default template and returns its bytes: its values depend on k.
func lifetime(t testing.TB, dir string, k int) []byte {
	t.Helper()
	var m model
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	m.Requests.Add(uint64(100 + k))
	m.Rated.Add(7)
	m.Bytes.Set(uint64(1000 * k))
	m.Seconds.Set(0.25 * float64(k+1))
	m.Peak.Set(uint32(10 * k))
	m.Signed.Set(int32(-3 * k))
	m.InFlight.Set(5)
	m.Load.Set(1.5)
	m.State.Set("busy")
	for i := range 50 + k {
		m.Latency.Observe(time.Duration(1+i*(k+1)) * time.Millisecond)
		m.Sizes.Observe(float64(int(32) << (i % 10)))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.Path()); err != nil {
		t.Fatal(err)
	}
	return data
}

// stats reads a file's stats by label.
func stats(t testing.TB, data []byte) map[string]reader.Stat {
	t.Helper()
	l, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]reader.Stat{}
	for i := range l.Fields {
		f := &l.Fields[i]
		v, err := reader.ReadValue(data, f)
		if err != nil {
			t.Fatalf("%s: %v", f.Label, err)
		}
		out[f.Label] = reader.Stat{Label: f.Label, Type: f.Sig.Text, Value: v, Meta: f.Meta}
	}
	return out
}

// histogram reads the histogram of the group headed by label.
func histogram(t testing.TB, data []byte, label string) *reader.Histogram {
	t.Helper()
	l, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range l.Fields {
		if l.Fields[i].Label == label {
			var h reader.Histogram
			if err := reader.ReadHistogram(data, l, i, &h); err != nil {
				t.Fatalf("%s: %v", label, err)
			}
			return &h
		}
	}
	t.Fatalf("no %s", label)
	return nil
}

// TestTotalsFoldsCountersAndHistograms: counters add up by their policy
// (sum, or max), histograms merge (count, sum, buckets added; min and
// max kept; percentiles from the merged buckets; rates and windowed
// means 0), and gauges, strings, timestamps and info are left out.
func TestTotalsFoldsCountersAndHistograms(t *testing.T) {
	dir := t.TempDir()
	files := [][]byte{lifetime(t, dir, 1), lifetime(t, dir, 2), lifetime(t, dir, 3)}
	var tot fold.Totals
	var wantLat, wantSizes reader.Histogram
	for _, f := range files {
		if err := tot.Add(f); err != nil {
			t.Fatal(err)
		}
		wantLat.Merge(histogram(t, f, "latency"))
		wantSizes.Merge(histogram(t, f, "sizes"))
	}
	tot.Folded = []convention.FoldedEntry{{ID: 7, Name: "x-1-1.mmstats"}}
	data, err := tot.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	got := stats(t, data)

	for label, want := range map[string]reader.Value{
		"requests": reader.UintValue(101 + 102 + 103),
		"rated":    reader.UintValue(21),
		"bytes":    reader.UintValue(6000),
		"busy":     reader.FloatValue(0.5 + 0.75 + 1),
		"peak":     reader.UintValue(30),
		"signed":   reader.IntValue(-18),
	} {
		s, ok := got[label]
		if !ok || s.Value != want || s.Meta.Kind != reader.KindCounter || s.Meta.Role != reader.Standalone {
			t.Errorf("%s = %v (%+v, found %v), want %v, a standalone counter", label, s.Value, s.Meta, ok, want)
		}
	}
	if got["peak"].Meta.Aggregation != reader.AggrMax || got["bytes"].Meta.Unit != "bytes" {
		t.Errorf("metadata not kept: peak %+v, bytes %+v", got["peak"].Meta, got["bytes"].Meta)
	}
	for label := range got {
		switch {
		case label == "inflight", label == "load", label == "state", label == "rated.rate10s",
			strings.HasPrefix(label, "sys."+"p"), label == "sys.created", label == "sys.flock",
			label == "sys.id", label == "sys.totals", label == "org.golang.version", label == "sys.uid":
			t.Errorf("%s is in the totals: only counters and histograms are folded", label)
		}
	}
	if s := got[convention.Folded]; s.Value.Str() != "0000000000000007:x-1-1.mmstats" || s.Meta.Kind != reader.KindInfo {
		t.Errorf("sys.folded = %v (%+v)", s.Value, s.Meta)
	}

	for head, want := range map[string]*reader.Histogram{"latency": &wantLat, "sizes": &wantSizes} {
		h := histogram(t, data, head)
		if h.Count != want.Count || h.Sum != want.Sum || h.Min != want.Min || h.Max != want.Max ||
			h.Lo != want.Lo || h.Underflow != want.Underflow || h.Overflow != want.Overflow || !slices.Equal(h.Counts, want.Counts) {
			t.Errorf("%s: folded histogram count %d sum %v [%v, %v], want the merge: count %d sum %v [%v, %v]",
				head, h.Count, h.Sum, h.Min, h.Max, want.Count, want.Sum, want.Min, want.Max)
		}
		for _, q := range []struct {
			suffix string
			q      float64
		}{{".p50", 0.5}, {".p90", 0.9}, {".p99", 0.99}, {".p999", 0.999}} {
			if v := got[head+q.suffix].Value.Float(); v != want.Quantile(q.q) {
				t.Errorf("%s%s = %v, want %v from the merged buckets", head, q.suffix, v, want.Quantile(q.q))
			}
		}
		if v, mean := got[head].Value.Float(), want.Sum/float64(want.Count); v != mean {
			t.Errorf("%s = %v, want the mean %v", head, v, mean)
		}
		if c := got[head+".count"]; c.Value.Uint() != want.Count || c.Meta.Kind != reader.KindCounter {
			t.Errorf("%s.count = %v (%+v)", head, c.Value, c.Meta)
		}
	}
	for _, label := range []string{"latency.avg10s", "latency.rate10s", "latency.avg1m", "latency.rate1m"} {
		if s, ok := got[label]; !ok || s.Value.Float() != 0 {
			t.Errorf("%s = %v (found %v), want 0: rates describe live processes", label, s.Value, ok)
		}
	}

	// The totals file reads back as it was written.
	back, err := fold.ParseTotals(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := back.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("a totals file parsed and written again changed")
	}
	if !slices.Equal(back.Labels(), tot.Labels()) {
		t.Errorf("labels %q, then %q", tot.Labels(), back.Labels())
	}
}

// TestTotalsSizeDependsOnLabelsOnly: folding the same labels again does
// not make the totals file larger.
func TestTotalsSizeDependsOnLabelsOnly(t *testing.T) {
	dir := t.TempDir()
	var tot fold.Totals
	var size int
	for k := range 20 {
		if err := tot.Add(lifetime(t, dir, k)); err != nil {
			t.Fatal(err)
		}
		data, err := tot.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if k > 0 && len(data) != size {
			t.Fatalf("after %d lifetimes the totals file has %d bytes, after 1 it had %d", k+1, len(data), size)
		}
		size = len(data)
	}
	t.Logf("totals file of %d labels: %d bytes", len(tot.Labels()), size)
}

// TestParseTotalsRefuses: a stats file (sys.pid), or a file without
// sys.folded, is not a totals file: nothing is folded into it.
func TestParseTotalsRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"stats file":    lifetime(t, dir, 1),
		"no sys.folded": v1file.Bytes(64, v1file.Unbuffered("requests", "Q", v1file.U64(3))),
		"sys.folded and sys.pid": v1file.Bytes(64, v1file.Unbuffered("sys.pid", "I", v1file.U32(1)),
			v1file.Unbuffered(convention.Folded, "16s", v1file.Str("", 16))),
	} {
		if _, err := fold.ParseTotals(data); !errors.Is(err, fold.ErrNotTotals) {
			t.Errorf("%s: ParseTotals = %v, want ErrNotTotals", name, err)
		}
	}
	bad := v1file.Bytes(64, v1file.Unbuffered(convention.Folded, "16s", v1file.Str("not an entry", 16)))
	if _, err := fold.ParseTotals(bad); !errors.Is(err, convention.ErrFolded) {
		t.Errorf("malformed sys.folded: %v", err)
	}
}

// TestTotalsKeepTheirShape: a label folded as a counter stays one when a
// later file has a histogram under it, and the other way round; such
// fields are counted as skipped.
func TestTotalsKeepTheirShape(t *testing.T) {
	dir := t.TempDir()
	var a struct {
		X mmstats.Counter   `mmstats:"x"`
		H mmstats.Histogram `mmstats:"h,windows=none"`
	}
	var b struct {
		X mmstats.Histogram `mmstats:"x,windows=none"`
		H mmstats.Counter   `mmstats:"h.count"`
	}
	read := func(model any, set func()) []byte {
		f, err := mmstats.New(model, mmstats.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		set()
		f.Close()
		data, _ := os.ReadFile(f.Path())
		os.Remove(f.Path())
		return data
	}
	var tot fold.Totals
	tot.Add(read(&a, func() { a.X.Add(2); a.H.Observe(1) }))
	tot.Add(read(&b, func() { b.X.Observe(3); b.H.Add(5) }))
	data, err := tot.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	got := stats(t, data)
	if got["x"].Value != reader.UintValue(2) || got["h.count"].Value != reader.UintValue(1) || tot.Skipped != 2 {
		t.Errorf("x = %v, h.count = %v, skipped %d; want 2, 1, 2", got["x"].Value, got["h.count"].Value, tot.Skipped)
	}
	if math.IsNaN(got["h.p50"].Value.Float()) {
		t.Error("h.p50 is NaN")
	}
}

// TestPython08ReadsTotals: a totals file is a valid v1 file that the
// reader of Python mmstats 0.8.0 walks to the end (sys.folded, the last
// field), yielding the stats the Go reader reads, and so the old tools
// sum the totals in too.
func TestPython08ReadsTotals(t *testing.T) {
	dir := t.TempDir()
	var tot fold.Totals
	for k := range 3 {
		if err := tot.Add(lifetime(t, dir, k)); err != nil {
			t.Fatal(err)
		}
	}
	tot.Folded = []convention.FoldedEntry{{ID: 1, Name: "a b.mmstats"}, {ID: 2, Name: "c.mmstats"}}
	data, err := tot.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x-totals.mmstats")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := reader.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := testutil.Python08Stats(t, path)
	var got [][2]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != len(want) {
		t.Fatalf("0.8.0 yields %d stats, the Go reader %d:\n%s", len(got), len(want), out)
	}
	for i, w := range want {
		label, value := got[i][0], got[i][1]
		ok := label == w.Label
		switch v := value.(type) {
		case float64:
			ok = ok && (v == w.Value.Float() || math.Abs(v-w.Value.Float()) <= 1e-9*math.Abs(v))
		case string:
			ok = ok && v == w.Value.Str()
		default:
			ok = false
		}
		if !ok {
			t.Errorf("stat %d: 0.8.0 reads %v = %v, the Go reader %s = %v", i, label, value, w.Label, w.Value)
		}
	}
	if last := got[len(got)-1]; last[0] != convention.Folded || last[1] != "0000000000000001:a%20b.mmstats 0000000000000002:c.mmstats" {
		t.Errorf("0.8.0's last stat: %v", last)
	}
}

// FuzzParseTotals: whatever a totals file holds (anyone who can write the
// directory can craft one), reading it and writing it again never
// panics, and what it writes reads back to the same bytes.
func FuzzParseTotals(f *testing.F) {
	dir := f.TempDir()
	var tot fold.Totals
	tot.Add(lifetime(f, dir, 1))
	tot.Folded = []convention.FoldedEntry{{ID: 1, Name: "x"}}
	seed, err := tot.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(v1file.Bytes(64, v1file.Unbuffered(convention.Folded, "16s", v1file.Str("", 16))))
	f.Fuzz(func(t *testing.T, data []byte) {
		t1, err := fold.ParseTotals(data)
		if err != nil {
			return
		}
		out, err := t1.Bytes()
		if err != nil {
			return
		}
		t2, err := fold.ParseTotals(out)
		if err != nil {
			t.Fatalf("a totals file written from a parsed one does not parse: %v", err)
		}
		again, err := t2.Bytes()
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("written again it differs (%v)", err)
		}
	})
}
