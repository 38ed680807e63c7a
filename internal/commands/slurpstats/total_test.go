package slurpstats

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// totalModel has a field of every policy.
type totalModel struct {
	Lat  mmstats.Timer   `mmstats:"lat,windows=none"`
	Reqs mmstats.Counter `mmstats:"reqs"`
	Big  mmstats.Uint64  `mmstats:"big"`
	Peak mmstats.Int32   `mmstats:"peak,aggr=max"`
	Mean mmstats.Float64 `mmstats:"mean,aggr=avg"`
	Seen mmstats.Float64 `mmstats:"seen,kind=timestamp,unit=seconds"`
	Name mmstats.String  `mmstats:"name,size=16,aggr=latest"`
}

// totalFixture writes three files of the Go writer, each with its own
// latencies, and returns their directory, their paths and all the
// latencies sorted.
func totalFixture(t *testing.T) (dir string, paths []string, pooled []float64) {
	t.Helper()
	dir = t.TempDir()
	for i, n := range []int{200, 100, 400} {
		var m totalModel
		f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("w%d.mmstats", i)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		for k := 1; k <= n; k++ {
			d := time.Duration(k*(3*i+1)) * 100 * time.Microsecond
			m.Lat.Observe(d)
			pooled = append(pooled, float64(d)/1e9)
		}
		m.Reqs.Add(uint64(n))
		m.Big.Set(math.MaxUint64)
		m.Peak.Set(int32([]int{5, 9, 7}[i]))
		m.Mean.Set(float64(i))
		m.Seen.Set(1.8e9 + float64([]int{1, 3, 2}[i]))
		m.Name.Set(fmt.Sprintf("worker %d", i))
		f.Refresh()
		paths = append(paths, f.Path())
		time.Sleep(2 * time.Millisecond) // sys.created tells them apart: the last is the newest
	}
	slices.Sort(pooled)
	return dir, paths, pooled
}

// totalJSON is the --total JSON output.
type totalJSON struct {
	Files int `json:"files"`
	Stats []struct {
		Label   string          `json:"label"`
		Policy  string          `json:"policy"`
		Files   int             `json:"files"`
		Value   json.RawMessage `json:"value"`
		From    string          `json:"from"`
		Same    *bool           `json:"same"`
		Missing int             `json:"missing"`
	} `json:"stats"`
	Errors []struct {
		Path  string `json:"path"`
		Error string `json:"error"`
	} `json:"errors"`
}

// TestTotal: --total prints one value per label over the files, by
// policy, in text, table and JSON: sums exact past 64 bits, percentiles
// from the merged buckets within the bucket error of the pooled values,
// the timer's mean weighted by the counts, max, mean, latest (a
// timestamp's largest, a string's in the newest file) with the file each
// came from, and an info field named by its file.
func TestTotal(t *testing.T) {
	dir, paths, pooled := totalFixture(t)
	r := run(t, nil, "--total", "--json", dir)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got totalJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	byLabel := map[string]int{}
	for i, s := range got.Stats {
		byLabel[s.Label] = i
	}
	if got.Files != 3 || len(got.Errors) != 0 {
		t.Errorf("files %d, errors %v", got.Files, got.Errors)
	}
	for _, want := range []struct {
		label, policy, value, from string
	}{
		{"reqs", "sum", "700", ""},
		{"lat.count", "sum", "700", ""},
		{"big", "sum", "55340232221128654845", ""},
		{"peak", "max", "9", paths[1]},
		{"mean", "avg", "1.0", ""},
		{"seen", "latest", "1800000003.0", paths[1]},
		{"name", "latest", `"worker 2"`, paths[2]},
		{"lat.min", "min", "0.0001", paths[0]},
		{"sys.pid", "none", "", paths[0]},
	} {
		i, ok := byLabel[want.label]
		if !ok {
			t.Errorf("no %s in\n%s", want.label, r.stdout)
			continue
		}
		s := got.Stats[i]
		if s.Policy != want.policy || s.Files != 3 || (want.value != "" && string(s.Value) != want.value) || s.From != want.from {
			t.Errorf("%s: %+v, want %+v", want.label, s, want)
		}
	}
	if s := got.Stats[byLabel["sys.pid"]]; s.Same == nil || !*s.Same {
		t.Errorf("sys.pid of one process: same %v, want true", s.Same)
	}
	for _, q := range []struct {
		label string
		q     float64
	}{{"lat.p50", 0.5}, {"lat.p90", 0.9}, {"lat.p99", 0.99}, {"lat.p999", 0.999}} {
		s := got.Stats[byLabel[q.label]]
		v, _ := strconv.ParseFloat(string(s.Value), 64)
		exact := exactQuantile(pooled, q.q)
		if rel := math.Abs(v-exact) / exact; s.Policy != "quantile" || rel > bucketError*(1+1e-9) {
			t.Errorf("%s = %v (%s), exact %v: %.3f%% off", q.label, v, s.Policy, exact, 100*rel)
		}
	}

	// Text: the policy after each value, and the file of one file's value.
	r = run(t, nil, "-t", "-f", "peak", "-f", "reqs", "-f", "lat.p99", dir)
	lines := strings.Split(r.stdout, "\n")
	if r.code != 0 || len(lines) != 6 || lines[0] != "==> total of 3 files" || lines[4] != "" {
		t.Fatalf("exit %d, text:\n%s", r.code, r.stdout)
	}
	if f := strings.Fields(lines[1]); len(f) != 3 || f[0] != "lat.p99" || f[2] != "quantile" {
		t.Errorf("line %q", lines[1])
	}
	if f := strings.Fields(lines[2]); !slices.Equal(f, []string{"reqs", "700", "sum"}) {
		t.Errorf("line %q", lines[2])
	}
	if f := strings.Fields(lines[3]); !slices.Equal(f, []string{"peak", "9", "max", paths[1]}) {
		t.Errorf("line %q", lines[3])
	}
	if strings.Index(lines[2], "sum") != strings.Index(lines[3], "max") {
		t.Errorf("policies not aligned:\n%s", r.stdout)
	}

	// Table, with --human: label, value, policy and the file's name.
	r = run(t, nil, "--total", "-o", "table", "-H", "-f", "seen", "-f", "lat.p50", dir)
	rows := map[string][]string{}
	for _, l := range strings.Split(r.stdout, "\n") {
		if c := cells(l); len(c) == 4 {
			rows[c[0]] = c
		}
	}
	if h := rows["label"]; !slices.Equal(h, []string{"label", "value", "policy", "from"}) {
		t.Errorf("header %q:\n%s", h, r.stdout)
	}
	if s := rows["seen"]; len(s) != 4 || !strings.Contains(s[1], ":00:03.000") /* 1.8e9+3 in any zone of whole quarter hours */ || s[3] != "w1.mmstats" {
		t.Errorf("seen row %q: want a date and the file's name:\n%s", s, r.stdout)
	}
	if s := rows["lat.p50"]; len(s) != 4 || !strings.HasSuffix(s[1], "ms") || s[2] != "quantile" || s[3] != "" {
		t.Errorf("p50 row %q: want a duration:\n%s", s, r.stdout)
	}
}

// TestTotalFeedsWhatPoliciesNeed: with -f keeping only a percentile or a
// timer's mean, the buckets and the counts still come in.
func TestTotalFeedsWhatPoliciesNeed(t *testing.T) {
	dir, paths, pooled := totalFixture(t)
	var wsum, wtot float64
	for _, p := range paths {
		stats, err := reader.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var v, c float64
		for _, s := range stats {
			switch s.Label {
			case "lat":
				v = s.Value.Float()
			case "lat.count":
				c = s.Value.Float()
			}
		}
		wsum, wtot = wsum+v*c, wtot+c
	}
	r := run(t, nil, "-t", "--json", "-f", "lat.p99", "-f", "lat", dir)
	var got totalJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || len(got.Stats) != 2 {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	mean, _ := strconv.ParseFloat(string(got.Stats[0].Value), 64)
	p99, _ := strconv.ParseFloat(string(got.Stats[1].Value), 64)
	if got.Stats[0].Label != "lat" || math.Abs(mean-wsum/wtot) > 1e-12*mean || got.Stats[0].Missing != 0 {
		t.Errorf("lat = %v (missing %d), want %v weighted by the counts", mean, got.Stats[0].Missing, wsum/wtot)
	}
	if exact := exactQuantile(pooled, 0.99); math.Abs(p99-exact) > bucketError*exact {
		t.Errorf("lat.p99 = %v, exact %v", p99, exact)
	}
}

// TestTotalOfFilesWithoutMetadata: Python's files add up, as before; a
// file that cannot be read is reported, in JSON too, and the others
// still count.
func TestTotalOfFilesWithoutMetadata(t *testing.T) {
	dir, _, _ := fixture(t)
	bad := filepath.Join(dir, "c.mmstats")
	if err := os.WriteFile(bad, []byte{9}, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "--total", "--json", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "slurpstats: "+bad+": ") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	var got totalJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	if got.Files != 2 || len(got.Errors) != 1 || got.Errors[0].Path != bad {
		t.Errorf("files %d, errors %+v", got.Files, got.Errors)
	}
	want := map[string]string{"web.requests": "49", "load": "1.5", "big": "1e+16", "db.ratio": `"NaN"`, "up": "1", "web.status": `"ok"`}
	for _, s := range got.Stats {
		if w, ok := want[s.Label]; !ok || string(s.Value) != w {
			t.Errorf("%s = %s (%s), want %s", s.Label, s.Value, s.Policy, w)
		}
		delete(want, s.Label)
	}
	if len(want) > 0 {
		t.Errorf("missing %v", want)
	}
}

// TestTotalUsage: --total has no prometheus output.
func TestTotalUsage(t *testing.T) {
	if r := run(t, nil, "--total", "-o", "prometheus"); r.code != cli.ExitUsage {
		t.Errorf("exit %d, want %d: %s", r.code, cli.ExitUsage, r.stderr)
	}
}

// bucketError is the documented error of a merged percentile.
var bucketError = math.Exp2(1.0/128) - 1

// exactQuantile returns the value of rank ceil(q·n) of sorted values.
func exactQuantile(sorted []float64, q float64) float64 {
	r := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(r, 1), len(sorted))-1]
}

// TestTotalLabelsAreBounded: a file of more labels than --total combines
// has the first ones combined, and the rest left out, said on stderr.
func TestTotalLabelsAreBounded(t *testing.T) {
	var fields []v1file.Field
	for i := range maxTotalLabels + 5 {
		fields = append(fields, v1file.Unbuffered(fmt.Sprintf("l%d", i), "B", []byte{1}))
	}
	path := v1file.Write(t, filepath.Join(t.TempDir(), "many.mmstats"), fields...)
	r := run(t, nil, "--total", path)
	if r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("--total combines the first %d labels and leaves out the others", maxTotalLabels)) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if n := strings.Count(r.stdout, "\n"); n != maxTotalLabels+2 {
		t.Errorf("%d lines, want %d", n, maxTotalLabels+2)
	}
}
