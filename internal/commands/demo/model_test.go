package demo

import (
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// TestModelLabels writes the model to a real file and checks its labels,
// and that /status shows every one of them.
func TestModelLabels(t *testing.T) {
	dir := t.TempDir()
	stats := new(WebStats)
	f, err := mmstats.New(stats, mmstats.Options{Dir: dir, Filename: FilenameTemplate, LabelPrefix: LabelPrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if ok, _ := filepath.Match("mmstats-demo-*-*.mmstats", filepath.Base(f.Path())); !ok {
		t.Errorf("file name %q does not follow %s", filepath.Base(f.Path()), FilenameTemplate)
	}
	stats.Status4XX.Add(3)
	stats.LastPath.Set("/here")

	read, err := reader.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]reader.Value{}
	for _, s := range read {
		got[s.Label] = s.Value
	}
	want := []string{
		"web.stats.status.2XX", "web.stats.status.3XX", "web.stats.status.4XX", "web.stats.status.5XX",
		"web.stats.timers.last_hit", "web.stats.timers.request", "web.stats.working", "web.stats.last_path",
	}
	for _, l := range want {
		if _, ok := got[l]; !ok {
			t.Errorf("no field %q in the file; have %v", l, mapsKeys(got))
		}
	}
	if v := got["web.stats.status.4XX"]; v.Uint() != 3 {
		t.Errorf("status.4XX reads %v, want 3", v)
	}
	if v := got["web.stats.last_path"]; v.Str() != "/here" {
		t.Errorf("last_path reads %q, want /here", v.Str())
	}

	rec := httptest.NewRecorder()
	writeStatus(rec, stats)
	for _, l := range want {
		if !strings.Contains(rec.Body.String(), "\n"+l+": ") {
			t.Errorf("/status does not show %s:\n%s", l, rec.Body.String())
		}
	}
}

func mapsKeys(m map[string]reader.Value) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
