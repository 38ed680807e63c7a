//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// TestPythonReadsRuntimeStats: a file with the Go runtime's stats
// (Options.Runtime: a hundred more fields, histograms whose buckets fill
// the pad bytes of .count) reads with the independent Python reader
// (v1reader.py) exactly as with slurpstats, and Python mmstats 0.8.0's
// reader loop yields the same labels and values, no extra one.
func TestPythonReadsRuntimeStats(t *testing.T) {
	py, script := python(t)
	f, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir(), LabelPrefix: "app.", Runtime: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	var sink [][]byte
	for i := range 3000 {
		sink = append(sink, make([]byte, i%4000))
		if i%1000 == 0 {
			runtime.GC()
		}
	}
	_ = sink
	f.Close() // the values stay as the last refresh left them

	fromGo := testutil.Run(t, nil, slurpBin(t), "--json", f.Path())
	fromPy := testutil.Run(t, nil, py, script, f.Path())
	if fromGo.Code != 0 || fromPy.Code != 0 {
		t.Fatalf("exit %d (slurpstats: %s), %d (v1reader.py: %s)", fromGo.Code, fromGo.Stderr, fromPy.Code, fromPy.Stderr)
	}
	g := decodeJSON(t, "slurpstats", []byte(fromGo.Stdout))
	if p := decodeJSON(t, "v1reader.py", []byte(fromPy.Stdout)); !reflect.DeepEqual(g, p) {
		t.Errorf("slurpstats:\n%s\nv1reader.py:\n%s", fromGo.Stdout, fromPy.Stdout)
	}
	var files []struct {
		Stats []struct {
			Label string
			Type  string
			Value json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(fromGo.Stdout), &files); err != nil || len(files) != 1 {
		t.Fatalf("slurpstats --json: %v", err)
	}
	want := files[0].Stats
	for _, l := range []string{"app.go.gc.cycles.total", "app.go.sched.goroutines", "app.go.gc.pauses.p99", "app.proc.cpu.user"} {
		if !strings.Contains(fromGo.Stdout, `"`+l+`"`) {
			t.Errorf("no %s in the file", l)
		}
	}

	out := testutil.Python08Stats(t, f.Path())
	var got [][2]json.RawMessage
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got) != len(want) {
		t.Fatalf("0.8.0 yields %d stats, slurpstats %d", len(got), len(want))
	}
	for i, w := range want {
		var label string
		json.Unmarshal(got[i][0], &label)
		if label != w.Label || !sameValue(got[i][1], w.Value) {
			t.Errorf("stat %d: 0.8.0 reads %s = %s, slurpstats %s = %s", i, label, got[i][1], w.Label, w.Value)
		}
	}
	t.Logf("%d stats, read alike by slurpstats, v1reader.py and 0.8.0's loop", len(want))
}

// sameValue compares two JSON values: numbers by value (0.8.0 prints a
// bool as true, slurpstats too), anything else by its text.
func sameValue(a, b json.RawMessage) bool {
	x, errX := strconv.ParseFloat(string(a), 64)
	y, errY := strconv.ParseFloat(string(b), 64)
	if errX == nil && errY == nil {
		return x == y
	}
	return bytes.Equal(a, b)
}
