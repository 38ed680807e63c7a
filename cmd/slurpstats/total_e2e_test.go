//go:build unix

package main

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// TestTotalAcrossWorkerExits: slurpstats --total over real writer
// processes while they come and go: one exits cleanly (its file folded
// into the totals file), one is killed (its file stays, dead, and still
// counts) and folded later by cleanstats. The total of every counter and
// histogram count stays the same through each step: it neither drops
// nor counts a file twice.
func TestTotalAcrossWorkerExits(t *testing.T) {
	bin, clean := slurpBin(t), testutil.Binary(t, "cmd/cleanstats")
	dir := t.TempDir()
	var writers []*testutil.Process
	for _, n := range []string{"10", "20", "40"} {
		w, _ := testutil.StartWriter(t, nil, "-dir", dir, "-counter", n)
		writers = append(writers, w)
	}
	total := func(step string) {
		t.Helper()
		r := testutil.Run(t, nil, bin, "--total", "--json", "-f", "every.counter", "-f", "every.latency.count", dir)
		if r.Code != 0 || r.Stderr != "" {
			t.Fatalf("%s: exit %d: %s", step, r.Code, r.Stderr)
		}
		var got struct {
			Stats []struct {
				Label string          `json:"label"`
				Value json.RawMessage `json:"value"`
			} `json:"stats"`
		}
		if err := json.Unmarshal([]byte(r.Stdout), &got); err != nil {
			t.Fatalf("%s: %v:\n%s", step, err, r.Stdout)
		}
		want := map[string]string{"every.counter": "70", "every.latency.count": "15"}
		for _, s := range got.Stats {
			if string(s.Value) != want[s.Label] {
				t.Errorf("%s: %s = %s, want %s", step, s.Label, s.Value, want[s.Label])
			}
			delete(want, s.Label)
		}
		if len(want) > 0 {
			t.Errorf("%s: missing %v:\n%s", step, want, r.Stdout)
		}
	}
	total("three live writers")

	writers[0].CloseStdin() // exits cleanly: its file is folded
	if err := writers[0].Wait(t, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	total("one folded by its writer")

	writers[1].Cmd.Process.Kill()
	writers[1].Wait(t, 10*time.Second)
	total("one killed, not folded yet")

	if r := testutil.Run(t, nil, clean, "-q", dir); r.Code != 0 {
		t.Fatalf("cleanstats: exit %d: %s", r.Code, r.Stderr)
	}
	total("the killed one folded by cleanstats")
	es, _ := os.ReadDir(dir)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	if !slices.Contains(names, "testwriter-totals.mmstats") || len(names) != 2 {
		t.Errorf("in the directory: %q, want the live writer's file and the totals file", names)
	}
}
