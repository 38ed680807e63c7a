//go:build linux

package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/reader"
)

// manyFiles returns how many files the mapping helper's test writes, the
// pollstats binary to run over them, and the environment to run it in:
// $MMSTATS_MANY_FILES (scripts/bench: 100,000) for the binary as built
// for users, past the machine's vm.max_map_count; by default 10,000
// files for a binary built with the test hooks told that the limit is
// 10,000 (5,904 files mapped by pollstats, the other 4,096 by its
// helper), the same whatever the machine's limit.
func manyFiles(t *testing.T) (n int, binary string, env []string) {
	if s := os.Getenv("MMSTATS_MANY_FILES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MMSTATS_MANY_FILES=%q", s)
		}
		return n, bin(t), nil
	}
	return 10000, testutil.BinaryWithHooks(t, "cmd/pollstats"), []string{"MMSTATS_TEST_MAX_MAP_COUNT=10000"}
}

// manyDir writes n files of one counter (value 1) in a new directory, and
// returns it and the counter's offset.
func manyDir(t *testing.T, n int) (string, int) {
	t.Helper()
	data := v1file.Bytes(4096, v1file.Unbuffered("web.stats.status.2XX", "Q", v1file.U64(1)),
		v1file.Unbuffered("web.stats.status.5XX", "Q", v1file.U64(0)))
	l, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	off := l.Fields[0].Value
	dir := testutil.MemDir(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d.mmstats", i)), data, 0o644); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return dir, off
}

// setAll writes v as the counter of the n files of dir, in place.
func setAll(t *testing.T, dir string, n, off int, v uint64) {
	t.Helper()
	b := binary.NativeEndian.AppendUint64(nil, v)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; i < n; i += 4 {
				f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("f%06d.mmstats", i)), os.O_WRONLY, 0)
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := f.WriteAt(b, int64(off)); err != nil {
					t.Error(err)
				}
				f.Close()
			}
		})
	}
	wg.Wait()
}

// awaitSum reads p's lines until one is want, failing on a line outside
// [from, want] (a change on its way shows between the two sums).
func awaitSum(t *testing.T, p *testutil.Process, from, want uint64) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		l := p.Line(t, time.Until(deadline))
		v, err := strconv.ParseUint(strings.TrimSpace(l), 10, 64)
		if err != nil {
			t.Fatalf("pollstats printed %q; stderr:\n%s", l, p.Stderr())
		}
		if v == want {
			return
		}
		if v < min(from, want) || v > max(from, want) {
			t.Fatalf("pollstats printed %d while waiting for %d (from %d); stderr:\n%s", v, want, from, p.Stderr())
		}
	}
}

// helperOf returns the PID of pollstats' mapping helper, its only child
// (started at its first interval; until its exec, it shows as pollstats).
func helperOf(t *testing.T, pid int) int {
	t.Helper()
	var kids []string
	var cmd string
	testutil.Eventually(t, time.Minute, func() bool {
		kids = kids[:0]
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		for _, task := range tasks {
			b, _ := os.ReadFile(task)
			kids = append(kids, strings.Fields(string(b))...)
		}
		if len(kids) != 1 {
			return false
		}
		b, _ := os.ReadFile("/proc/" + kids[0] + "/cmdline")
		cmd = strings.TrimRight(string(b), "\x00")
		return cmd == "pollstats (mapping helper)"
	}, func() string {
		return fmt.Sprintf("pollstats has children %v (the last %q), want its mapping helper", kids, cmd)
	})
	child, _ := strconv.Atoi(kids[0])
	return child
}

// gone waits until process pid no longer exists (nor is a zombie).
func gone(t *testing.T, pid int, what string) {
	t.Helper()
	testutil.Eventually(t, 10*time.Second, func() bool {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err != nil || strings.Contains(string(b), ") Z ")
	}, func() string { return what + ": the mapping helper is still running" })
}

// TestMappingHelper: past the mappings a process may have, pollstats maps
// the rest of the files in a helper process: exact sums before and after
// every file changes; a helper killed in the middle leaves one warning
// and exact sums; no helper outlives pollstats, whether it exits or is
// killed.
func TestMappingHelper(t *testing.T) {
	n, binary, env := manyFiles(t)
	if env == nil {
		limit := 65530
		if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
			limit, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if n <= limit {
			t.Fatalf("vm.max_map_count is %d: MMSTATS_MANY_FILES=%d does not exceed it", limit, n)
		}
	}
	dir, off := manyDir(t, n)
	run := func() *testutil.Process {
		return testutil.Start(t, env, binary, "-v", "-a", "-d", "0.2", "-p", "web.stats", "status.2XX", dir)
	}
	pastMaps := "pollstats: out of memory mappings (vm.max_map_count): the files past them are read again every interval, "
	stderrIs := func(p *testutil.Process, want ...string) {
		t.Helper()
		got := strings.Split(strings.TrimSuffix(p.Stderr(), "\n"), "\n")
		if len(got) != len(want) {
			t.Fatalf("stderr:\n%s\nwant %d lines", p.Stderr(), len(want))
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("stderr line %d: %q, want %q...", i+1, got[i], want[i])
			}
		}
	}
	N := uint64(n)
	// roundTrip sets every file's counter to v and back to 1, each sum
	// exact; then pollstats is stopped, exits 0 and prints stderr.
	roundTrip := func(t *testing.T, p *testutil.Process, v uint64, stderr ...string) {
		t.Helper()
		setAll(t, dir, n, off, v)
		awaitSum(t, p, N, v*N)
		setAll(t, dir, n, off, 1)
		awaitSum(t, p, v*N, N)
		p.Cmd.Process.Signal(syscall.SIGTERM)
		if err := p.Wait(t, time.Minute); err != nil {
			t.Errorf("pollstats: %v, want exit 0", err)
		}
		stderrIs(p, stderr...)
	}

	t.Run("exits", func(t *testing.T) {
		p := run()
		if l := p.Line(t, 2*time.Minute); strings.TrimSpace(l) != "status.2XX" {
			t.Fatalf("header %q", l)
		}
		awaitSum(t, p, N, N)
		helper := helperOf(t, p.Cmd.Process.Pid)
		roundTrip(t, p, 2, pastMaps)
		gone(t, helper, "after pollstats exited")
	})

	t.Run("helper killed", func(t *testing.T) {
		p := run()
		p.Line(t, 2*time.Minute)
		awaitSum(t, p, N, N)
		helper := helperOf(t, p.Cmd.Process.Pid)
		if err := syscall.Kill(helper, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		roundTrip(t, p, 3, pastMaps, "pollstats: the mapping helper failed (it exited): the ")
	})

	t.Run("pollstats killed", func(t *testing.T) {
		p := run()
		p.Line(t, 2*time.Minute)
		awaitSum(t, p, N, N)
		helper := helperOf(t, p.Cmd.Process.Pid)
		p.Cmd.Process.Kill()
		p.Wait(t, time.Minute)
		gone(t, helper, "after pollstats was killed")
	})
}

// TestMappingHelperVariableLeftSet: the helper's variable in a user's
// environment is not a silent exit: pollstats says to unset it.
func TestMappingHelperVariableLeftSet(t *testing.T) {
	for _, v := range []string{"1", "1,8", "x"} {
		r := testutil.Run(t, []string{"POLLSTATS_MAPPING_HELPER=" + v}, bin(t), "status.2XX")
		want := "pollstats: POLLSTATS_MAPPING_HELPER is set: that variable is for pollstats' own helper; unset it\n"
		if r.Code != 2 || r.Stderr != want || r.Stdout != "" {
			t.Errorf("POLLSTATS_MAPPING_HELPER=%s: exit %d, stdout %q, stderr %q; want exit 2 and %q", v, r.Code, r.Stdout, r.Stderr, want)
		}
	}
}
