//go:build !linux && !darwin && !freebsd

package mmstats_test

import (
	"errors"
	"os"
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// TestNewUnsupported: where the writer cannot map files, New fails with
// an error wrapping errors.ErrUnsupported, creates nothing, and the
// fields still count in memory.
func TestNewUnsupported(t *testing.T) {
	var s struct {
		Hits mmstats.Counter `mmstats:"hits"`
	}
	dir := t.TempDir()
	f, err := mmstats.New(&s, mmstats.Options{Dir: dir})
	if f != nil || !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("New = %v, %v; want nil and errors.ErrUnsupported", f, err)
	}
	s.Hits.Inc()
	if s.Hits.Value() != 1 {
		t.Errorf("Hits = %d, want 1", s.Hits.Value())
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("New left %d files", len(es))
	}
}
