//go:build unix

package cleanstats

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// lock opens path and takes a lock on it until the test ends.
func lock(t *testing.T, path string, how int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
}

// TestHiddenFiles: the lines for files found aside and for temporary
// files, in text and JSON.
func TestHiddenFiles(t *testing.T) {
	const hex = ".cleanstats-0123456789abcdef"
	setup := func(t *testing.T) (dir string, p map[string]string) {
		dir = t.TempDir()
		w := func(name string, data []byte) string {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}
		dead := testutil.ExitedPID(t)
		p = map[string]string{
			"aside":     w(".live.mmstats"+hex, pyFile(dead, uint64(os.Getuid()), testutil.Now(), true)),
			"taken":     w(".taken.mmstats"+hex, pyFile(dead, uint64(os.Getuid()), testutil.Now(), true)),
			"stale":     w(".stale.mmstats"+hex, pyFile(dead, uint64(os.Getuid()), testutil.Now(), false)),
			"abandoned": w(".mmstats.0123456789abcdef.tmp", nil),
			"young":     w(".mmstats.1123456789abcdef.tmp", nil),
			"inuse":     w(".mmstats.2123456789abcdef.tmp", nil),
			"other":     w("taken.mmstats", pyFile(uint32(os.Getpid()), uint64(os.Getuid()), testutil.Now(), false)),
		}
		lock(t, p["aside"], syscall.LOCK_SH)
		lock(t, p["taken"], syscall.LOCK_SH)
		lock(t, p["inuse"], syscall.LOCK_SH)
		old := time.Now().Add(-time.Hour)
		os.Chtimes(p["abandoned"], old, old)
		os.Chtimes(p["inuse"], old, old)
		return dir, p
	}
	live := func(p string) string { return filepath.Join(filepath.Dir(p), "live.mmstats") }

	t.Run("text", func(t *testing.T) {
		dir, p := setup(t)
		out, errOut, code := run("-n", dir)
		for _, want := range []string{
			"Writer (PID ", ") holds its lock. Would restore " + live(p["aside"]) + " from " + p["aside"] + "\n",
			" not found. Would delete " + p["stale"] + "\n",
			"Abandoned temporary file (nobody holds its lock; unchanged for 1m0s or more). Would delete " + p["abandoned"] + "\n",
			"Would remove 2  -  3 alive\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in:\n%s", want, out)
			}
		}
		if strings.Contains(out, p["young"]) || strings.Contains(out, p["inuse"]) || errOut != "" || code != 0 {
			t.Errorf("exit %d, stderr %q, stdout:\n%s", code, errOut, out)
		}

		out, errOut, code = run(dir)
		if want := "Writer (PID "; !strings.Contains(out, ") holds its lock. Restoring "+live(p["aside"])+" from "+p["aside"]+"\n") {
			t.Errorf("no %q ... in:\n%s", want, out)
		}
		if want := "cleanstats: " + p["taken"] + ": cannot go back to " + filepath.Join(dir, "taken.mmstats") + ": its name is taken\n"; errOut != want || code != 1 {
			t.Errorf("exit %d, stderr %q, want %q", code, errOut, want)
		}
		if _, err := os.Lstat(live(p["aside"])); err != nil {
			t.Error("not restored")
		}

		out, _, _ = run("-v", dir)
		for _, want := range []string{
			"Temporary file being created (not locked yet, changed less than 1m0s ago). Keeping " + p["young"] + "\n",
			"Temporary file in use (its creator holds its lock). Keeping " + p["inuse"] + "\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("-v: no %q in:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		dir, p := setup(t)
		out, _, code := run("--json", dir)
		got := map[string]map[string]any{}
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			got[v["path"].(string)] = v
		}
		for k, want := range map[string][4]string{
			"aside":     {"aside", "restored", "lock-held", live(p["aside"])},
			"taken":     {"aside", "error", "name-taken", ""},
			"stale":     {"aside", "removed", "no-process", ""},
			"abandoned": {"temporary", "removed", "abandoned-temporary", ""},
			"young":     {"temporary", "skipped", "young-temporary", ""},
			"inuse":     {"temporary", "alive", "lock-held", ""},
			"other":     {"stats", "alive", "pid-alive", ""},
		} {
			v := got[p[k]]
			moved, _ := v["moved_to"].(string)
			if v["kind"] != want[0] || v["decision"] != want[1] || v["reason"] != want[2] || moved != want[3] {
				t.Errorf("%s: %v, want %v", k, v, want)
			}
		}
		if code != 1 {
			t.Errorf("exit %d, want 1 (a live file kept aside)", code)
		}
	})
}

// TestQuoted: in text, file names and messages are quoted; in JSON they
// are JSON strings.
func TestQuoted(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a\x1b[1m\nb.mmstats")
	os.WriteFile(name, pyFile(testutil.ExitedPID(t), uint64(os.Getuid()), testutil.Now(), false), 0o644)
	out, _, _ := run("-n", dir)
	if want := `. Would delete "` + dir + `/a\033[1m\nb.mmstats"` + "\n"; !strings.Contains(out, want) || strings.Contains(out, "\x1b") {
		t.Errorf("no %q in %q", want, out)
	}
	out, _, _ = run("-n", "--json", dir)
	if want := `"path":"` + dir + `/a\u001b[1m\nb.mmstats"`; !strings.Contains(out, want) {
		t.Errorf("no %q in %q", want, out)
	}
	_, errOut, code := run(filepath.Join(dir, "gone\x1b]0;x\x07"))
	if want := `cleanstats: "` + dir + `/gone\033]0;x\a": no such file or directory` + "\n"; errOut != want || code != 1 {
		t.Errorf("exit %d, stderr %q, want %q", code, errOut, want)
	}
}
