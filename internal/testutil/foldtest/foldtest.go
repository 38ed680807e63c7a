//go:build unix

// Package foldtest makes the files of the tests of the tools that read
// totals files (pollstats, mmash, slurpstats --total): the files of dead
// writers, folded into their totals file as cleanstats folds them, or
// left as a folder killed between its commit and the removal leaves
// them. It is apart from testutil, which the writer's own tests import.
package foldtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fold"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// Model is the model of the files Lifetime writes.
type Model struct {
	Requests mmstats.Counter `mmstats:"requests"`
	InFlight mmstats.Int32   `mmstats:"inflight"`
	Lat      mmstats.Timer   `mmstats:"lat,windows=none"`
}

// Totals is the totals file of the files Lifetime writes.
const Totals = "app-totals.mmstats"

var lifetimes atomic.Int64

// Lifetime writes the file of one dead writer into dir, under a name of
// its own (app-PID-deadK.mmstats, which folds into Totals), and returns
// its path: n requests, n latencies of 1 to n ms, and 1 in flight (a
// gauge, which folding leaves out).
func Lifetime(t testing.TB, dir string, n int) string {
	t.Helper()
	var m Model
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "app-{PID}-{TID}.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	m.Requests.Add(uint64(n))
	m.InFlight.Set(1)
	for i := range n {
		m.Lat.Observe(time.Duration(i+1) * time.Millisecond)
	}
	f.Close()
	// Another name, as another process would have: this one makes the
	// next file under the same PID and thread.
	path := filepath.Join(dir, fmt.Sprintf("app-%d-dead%d.mmstats", os.Getpid(), lifetimes.Add(1)))
	if err := os.Rename(f.Path(), path); err != nil {
		t.Fatal(err)
	}
	return path
}

// Fold folds the dead writer's file at path into its totals file, as
// cleanstats does; with remove false the folder "dies" between the
// commit and the removal, leaving the file folded and in place.
func Fold(t testing.TB, path string, remove bool) {
	t.Helper()
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	res, err := fold.FoldPath(path, fd, func() {
		if remove {
			os.Remove(path)
		}
	})
	if err != nil || res.Outcome != fold.Folded {
		t.Fatalf("fold %s: %v, %v", path, res.Outcome, err)
	}
}
