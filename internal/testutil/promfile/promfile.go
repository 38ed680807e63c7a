// Package promfile reads a stats file as the Prometheus exposition
// takes it (its stats and its histogram groups), for the tests of the
// packages that export it. Only tests import it.
package promfile

import (
	"slices"
	"testing"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/reader"
)

// Read opens the file at path and returns its stats and the histogram
// groups prom.ReadGroups finds in it, with their counts copied out of the
// file (the file is closed on return). Any error fails the test.
func Read(t testing.TB, path string) ([]reader.Stat, []prom.Group) {
	t.Helper()
	rf, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	stats, err := rf.Stats()
	if err != nil {
		t.Fatal(err)
	}
	groups, err := prom.ReadGroups(rf, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range groups {
		groups[i].H.Counts = slices.Clone(groups[i].H.Counts)
	}
	return stats, groups
}
