//go:build !unix

package clean_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/pkg/clean"
)

// TestUnsupported: where the package cannot work, every path fails with
// an error wrapping errors.ErrUnsupported, and nothing is removed.
func TestUnsupported(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.mmstats")
	if err := os.WriteFile(path, []byte{1}, 0o644); err != nil {
		t.Fatal(err)
	}
	res := (&clean.Cleaner{}).CleanFile(path)
	if res.Decision != clean.Failed || !errors.Is(res.Err, errors.ErrUnsupported) {
		t.Errorf("got %v, %v; want Failed with errors.ErrUnsupported", res.Decision, res.Err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the file is gone: %v", err)
	}
}
