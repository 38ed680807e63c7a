//go:build unix

package clean_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mmstats/mmstats/pkg/clean"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// A writer that lives holds the lock on its file; one that closed its file
// (or died) does not, and its file goes.
func ExampleCleaner() {
	dir, _ := os.MkdirTemp("", "clean-example-")
	defer os.RemoveAll(dir)

	live, _ := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "live.mmstats"})
	defer live.Remove()
	gone, _ := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "gone.mmstats"})
	gone.Close() // leaves the file, releases the lock

	paths, _ := filepath.Glob(filepath.Join(dir, "*.mmstats"))
	c := &clean.Cleaner{}
	c.Clean(paths, func(r *clean.Result) error {
		fmt.Printf("%s: %v (%v)\n", filepath.Base(r.Path), r.Decision, r.Reason)
		return nil
	})
	// Output:
	// gone.mmstats: removed (lock-free)
	// live.mmstats: alive (lock-held)
}
