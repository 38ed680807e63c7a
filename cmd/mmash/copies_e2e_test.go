//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// TestOutOfMappings: past the memory mappings a process may have (a
// binary built with the test hooks, told that vm.max_map_count is 4,100:
// 4 mappings), mmash reads the files as copies and says so once, with
// what to do, and its answers still count every file, again and again.
func TestOutOfMappings(t *testing.T) {
	dir := testutil.MemDir(t)
	const n = 12
	for i := range n {
		data := v1file.Bytes(4096, v1file.Unbuffered("web.stats.status.2XX", "Q", v1file.U64(uint64(i+1))))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("w%02d.mmstats", i)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m := testutil.StartMmashWith(t, testutil.BinaryWithHooks(t, "cmd/mmash"), []string{"MMSTATS_TEST_MAX_MAP_COUNT=4100"}, dir)
	want := n * (n + 1) / 2
	for range 3 {
		var got map[string]float64
		if code := getJSON(t, m.URL+"/stats/web.stats.status?aggr=sum", &got); code != 200 || got["web.stats.status.2XX"] != float64(want) {
			t.Fatalf("GET /stats: %d %v, want 2XX %d", code, got, want)
		}
	}
	m.Process.Cmd.Process.Signal(syscall.SIGTERM)
	if err := m.Process.Wait(t, 10*time.Second); err != nil {
		t.Fatalf("mmash: %v", err)
	}
	stderr := m.Process.Stderr()
	if c := strings.Count(stderr, "out of memory mappings (vm.max_map_count)"); c != 1 ||
		!strings.Contains(stderr, "a vm.max_map_count above the number of files keeps them all mapped") {
		t.Errorf("said %d times that files are copies; stderr:\n%s", c, stderr)
	}
}
