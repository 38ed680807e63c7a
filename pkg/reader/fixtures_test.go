package reader_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/pkg/reader"
)

type expectedFile struct {
	Path  string `json:"path"`
	Stats []struct {
		Label string          `json:"label"`
		Type  string          `json:"type"`
		Value json.RawMessage `json:"value"`
	} `json:"stats"`
	Error string `json:"error"`
}

// TestPythonFixtures reads every file the Python 0.8.0 writer wrote and
// compares label, type and value with expected.json, value by value in the
// JSON form the tools print.
func TestPythonFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "python-v1")
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []expectedFile
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != 6 {
		t.Fatalf("expected.json has %d files, want 6", len(want))
	}
	for _, wf := range want {
		t.Run(wf.Path, func(t *testing.T) {
			stats, err := reader.ReadFile(filepath.Join(dir, wf.Path))
			if err != nil {
				t.Fatal(err)
			}
			if len(stats) != len(wf.Stats) {
				t.Fatalf("got %d stats, want %d", len(stats), len(wf.Stats))
			}
			for i, ws := range wf.Stats {
				got := stats[i]
				if got.Label != ws.Label || got.Type != ws.Type {
					t.Errorf("stat %d: got %s %s, want %s %s", i, got.Label, got.Type, ws.Label, ws.Type)
				}
				if js := got.Value.AppendJSON(nil); !jsonEqual(t, js, ws.Value) {
					t.Errorf("%s: got value %s, want %s", ws.Label, js, ws.Value)
				}
			}
		})
	}
}

// jsonEqual compares two JSON scalars: numbers exactly by their decimal
// value (so 30.0 == 30.0 and 2^63 stays exact), others by their decoding.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if err := da.Decode(&x); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := db.Decode(&y); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	return x == y
}
