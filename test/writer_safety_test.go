//go:build unix

package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// refused runs a testwriter whose file name is taken and checks that it
// fails at once with one clear line naming the file, and leaves nothing
// behind (no temporary file).
func refused(t *testing.T, dir, name string) {
	t.Helper()
	// stdin is /dev/null: a writer that did start would exit at once.
	r := testutil.Run(t, nil, testwriter(t), "-dir", dir, "-name", name)
	path := filepath.Join(dir, name)
	if r.Code != 1 || r.Stdout != "" {
		t.Errorf("testwriter over %s: exit %d, stdout %q; want exit 1 and no file", path, r.Code, r.Stdout)
	}
	if l := lines(r.Stderr); len(l) != 1 || !strings.Contains(l[0], path) || !strings.Contains(l[0], "exists") {
		t.Errorf("testwriter over %s: stderr %q; want one line naming the file and saying it exists", path, r.Stderr)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestWriterNeverFollowsASymlink: a symlink planted at the writer's file
// name, to a file or to nothing, is not followed: the writer fails with a
// clear error, the link and its target are untouched, and no file appears
// where a dangling link points.
func TestWriterNeverFollowsASymlink(t *testing.T) {
	dir, elsewhere := testutil.SharedDir(t, 0o755), testutil.SharedDir(t, 0o755)
	target := filepath.Join(elsewhere, "precious")
	if err := os.WriteFile(target, []byte("do not truncate me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "planted.mmstats")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.mmstats")
	nowhere := filepath.Join(elsewhere, "created-through-the-link")
	if err := os.Symlink(nowhere, dangling); err != nil {
		t.Fatal(err)
	}
	before := map[string]snapshot{target: snap(t, target), link: snap(t, link), dangling: snap(t, dangling)}

	refused(t, dir, "planted.mmstats")
	refused(t, dir, "dangling.mmstats")
	for p, s := range before {
		untouched(t, p, s)
	}
	if _, err := os.Lstat(nowhere); !os.IsNotExist(err) {
		t.Errorf("%s was created through the dangling link (%v)", nowhere, err)
	}
}

// TestWriterNeverTakesOverAFile: a file already at the writer's name —
// anything, or the live file of another writer — is neither truncated nor
// taken over: the second writer fails with a clear error and the first
// goes on writing its own file.
func TestWriterNeverTakesOverAFile(t *testing.T) {
	dir := testutil.SharedDir(t, 0o755)
	plain := filepath.Join(dir, "plain.mmstats")
	if err := os.WriteFile(plain, []byte("someone else's data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	plainSnap := snap(t, plain)
	refused(t, dir, "plain.mmstats")
	untouched(t, plain, plainSnap)

	first, live := testutil.StartWriter(t, nil, "-dir", dir, "-name", "live.mmstats", "-counter", "7")
	liveSnap := snap(t, live)
	refused(t, dir, "live.mmstats")
	untouched(t, live, liveSnap)
	counters, r := slurpJSON(t, nil, live)
	if r.Code != 0 || counters[live] != 7 {
		t.Errorf("the first writer's file reads %v (exit %d), want %s = 7", counters, r.Code, live)
	}

	// The first writer still owns it: on exit it removes its own file.
	first.CloseStdin()
	if code := (&proc{first}).wait(t, 30*time.Second); code != 0 {
		t.Errorf("first writer: exit %d: %s", code, first.Stderr())
	}
	if _, err := os.Lstat(live); !os.IsNotExist(err) {
		t.Errorf("%s still there after its writer removed it (%v)", live, err)
	}
}
