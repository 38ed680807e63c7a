//go:build unix

package test

// Hostile files for every reading tool: symlinks to /etc/passwd and to a
// FIFO, files truncated or replaced while they are read, unreadable files
// and files of another user, and more files than a process may map. Each
// case ends with the tool's documented behaviour: exit status 0 (all
// handled) or 1 (some file failed, each named on one stderr line), the
// other files still processed, no crash and no hang; cleanstats never
// removes a symlink, its target or a live file.

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// pollOnce runs pollstats -v -a over dir (as cred) for two intervals and
// checks that it exits 0, that both lines show want (the sum of the
// readable files' counters) and that stderr has one line for each of bad.
func pollOnce(t *testing.T, cred *syscall.Credential, dir string, want uint64, bad ...string) {
	t.Helper()
	r := testutil.RunAs(t, cred, pollstats(t), "-v", "-a", "-c", "2", "-d", "0.05", counterLabel, dir)
	noCrash(t, "pollstats", r.Stderr)
	if r.Code != 0 {
		t.Fatalf("pollstats: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	got := lines(r.Stdout)
	if len(got) != 3 || strings.TrimSpace(got[0]) != counterLabel {
		t.Fatalf("pollstats printed:\n%s", r.Stdout)
	}
	for _, l := range got[1:] {
		if strings.TrimSpace(l) != strconv.FormatUint(want, 10) {
			t.Errorf("pollstats line %q, want %d", l, want)
		}
	}
	oneLineEach(t, "pollstats", r.Stderr, bad...)
}

// TestSymlinksInTheGlob: a glob matches a symlink to /etc/passwd and one
// to a FIFO. Readers name each on one stderr line and exit 1 (pollstats,
// which runs on, warns with -v and exits 0); cleanstats reports them,
// touches neither link nor target, and still removes the stale file and
// keeps the live one.
func TestSymlinksInTheGlob(t *testing.T) {
	dir, outside := testutil.SharedDir(t, 0o755), testutil.SharedDir(t, 0o755)
	fifo := filepath.Join(outside, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	stale := testutil.WriteFile(t, dir, "stale.mmstats", template(t))
	passwd, fifoLink := filepath.Join(dir, "passwd.mmstats"), filepath.Join(dir, "fifo.mmstats")
	if err := os.Symlink("/etc/passwd", passwd); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(fifo, fifoLink); err != nil {
		t.Fatal(err)
	}
	before := map[string]snapshot{}
	for _, p := range []string{passwd, fifoLink, "/etc/passwd", fifo} {
		before[p] = snap(t, p)
	}
	t.Cleanup(func() {
		for p, s := range before {
			untouched(t, p, s)
		}
	})

	t.Run("slurpstats", func(t *testing.T) {
		counters, r := slurpJSON(t, nil, dir)
		if r.Code != 1 || len(counters) != 1 || counters[stale] != 42 {
			t.Errorf("--json: exit %d, counters %v; want exit 1 and %s = 42", r.Code, counters, stale)
		}
		oneLineEach(t, "slurpstats", r.Stderr, fifoLink, passwd)
		r = testutil.Run(t, nil, slurpstats(t), dir)
		noCrash(t, "slurpstats", r.Stderr)
		if r.Code != 1 || !strings.Contains(r.Stdout, "==> "+stale+"\n") {
			t.Errorf("text: exit %d, stdout:\n%s", r.Code, r.Stdout)
		}
		oneLineEach(t, "slurpstats", r.Stderr, fifoLink, passwd)
	})
	t.Run("pollstats", func(t *testing.T) { pollOnce(t, nil, dir, 42, fifoLink, passwd) })
	t.Run("mmash", func(t *testing.T) {
		m := &mmash{testutil.StartMmash(t, nil, dir)}
		m.wantFiles(t, "", "stale.mmstats")
		m.wantSum(t, 42)
		for _, name := range []string{"passwd.mmstats", "fifo.mmstats"} {
			if code, body := m.get(t, "/files/"+name); code != 400 {
				t.Errorf("GET /files/%s: %d %s, want 400 (leads outside the directory)", name, code, body)
			}
		}
		m.stop(t)
	})
	t.Run("cleanstats", func(t *testing.T) {
		_, live := testutil.StartWriter(t, nil, "-dir", dir, "-name", "live.mmstats")
		liveSnap := snap(t, live)
		r := testutil.Run(t, nil, cleanstats(t), dir)
		noCrash(t, "cleanstats", r.Stderr)
		if r.Code != 0 || r.Stderr != "" {
			t.Errorf("exit %d, stderr %q; want 0 and nothing", r.Code, r.Stderr)
		}
		for _, l := range []string{"Symlink, not followed: " + passwd, "Symlink, not followed: " + fifoLink, "Removed 1  -  1 alive"} {
			if !strings.Contains(r.Stdout, l+"\n") {
				t.Errorf("no line %q in:\n%s", l, r.Stdout)
			}
		}
		if _, err := os.Lstat(stale); !os.IsNotExist(err) {
			t.Errorf("the stale file is still there (%v)", err)
		}
		untouched(t, live, liveSnap)
	})
}

// TestTruncatedWhileMapped: a file truncated to zero while a tool has it
// mapped (its pages fault with SIGBUS) is reported, the other files go on
// being read, and a file that comes back is read again.
func TestTruncatedWhileMapped(t *testing.T) {
	data := template(t)

	t.Run("pollstats", func(t *testing.T) {
		dir := testutil.SharedDir(t, 0o755)
		testutil.WriteFile(t, dir, "a.mmstats", data)
		b := testutil.WriteFile(t, dir, "b.mmstats", data)
		testutil.WriteFile(t, dir, "c.mmstats", data)
		p := start(t, nil, pollstats(t), "-v", "-a", "-d", "0.05", counterLabel, dir)
		p.line(t, time.Minute) // the header
		waitSum(t, p, 126, 126)
		if err := os.Truncate(b, 0); err != nil {
			t.Fatal(err)
		}
		waitSum(t, p, 84, 84, 126)
		// The same file gets its bytes back (written in place, no O_TRUNC).
		rewrite(t, b, data)
		waitSum(t, p, 126, 84, 126)
		if code := p.stop(t); code != 0 {
			t.Errorf("pollstats: exit %d, want 0", code)
		}
		stderr := p.Stderr()
		noCrash(t, "pollstats", stderr)
		if !strings.Contains(stderr, "pollstats: "+b+": ") {
			t.Errorf("no warning names %s:\n%s", b, stderr)
		}
		for _, l := range lines(stderr) {
			if !strings.HasPrefix(l, "pollstats: "+b+": ") {
				t.Errorf("stderr line not about %s: %q", b, l)
			}
		}
	})

	t.Run("slurpstats racing truncations", func(t *testing.T) {
		dir := testutil.SharedDir(t, 0o755)
		a := testutil.WriteFile(t, dir, "a.mmstats", data)
		b := testutil.WriteFile(t, dir, "b.mmstats", data)
		stop := loop(t, func(i int) {
			if err := os.Truncate(b, 0); err != nil {
				t.Error(err)
			}
			rewrite(t, b, data)
			time.Sleep(time.Duration(i%5) * 200 * time.Microsecond)
		})
		failed, reasons := 0, map[string]int{}
		for range 30 {
			counters, r := slurpJSON(t, nil, dir)
			switch {
			case counters[a] != 42:
				t.Errorf("%s not read: %v (stderr %q)", a, counters, r.Stderr)
			case r.Code == 1:
				failed++
				oneLineEach(t, "slurpstats", r.Stderr, b)
				reasons[strings.TrimSpace(strings.TrimPrefix(r.Stderr, "slurpstats: "+b+": "))]++
			case r.Code != 0 || counters[b] != 42 || r.Stderr != "":
				t.Errorf("exit %d, counters %v, stderr %q", r.Code, counters, r.Stderr)
			}
		}
		stop()
		t.Logf("%d of 30 runs found %s truncated (exit 1, one line: %v); every run read %s", failed, b, reasons, a)
	})
}

// TestReplacedWhileRead: a file renamed over while tools read it is read
// whole, old or new, and pollstats counts the new one from then on;
// cleanstats never removes a live file while stale files are renamed
// over names in its directory.
func TestReplacedWhileRead(t *testing.T) {
	data := template(t)

	t.Run("pollstats", func(t *testing.T) {
		dir := testutil.SharedDir(t, 0o755)
		testutil.WriteFile(t, dir, "a.mmstats", data)
		b := testutil.WriteFile(t, dir, "b.mmstats", data)
		p := start(t, nil, pollstats(t), "-v", "-a", "-d", "0.05", counterLabel, dir)
		p.line(t, time.Minute)
		waitSum(t, p, 84, 84)
		replace(t, b, withCounter(t, 1000))
		waitSum(t, p, 1042, 84, 1042)
		replace(t, b, withCounter(t, 5))
		waitSum(t, p, 47, 1042, 47)
		if code := p.stop(t); code != 0 {
			t.Errorf("pollstats: exit %d, want 0", code)
		}
		if s := p.Stderr(); s != "" {
			t.Errorf("pollstats -v warned about a replaced file:\n%s", s)
		}
	})

	t.Run("slurpstats racing renames", func(t *testing.T) {
		dir := testutil.SharedDir(t, 0o755)
		a := testutil.WriteFile(t, dir, "a.mmstats", data)
		b := testutil.WriteFile(t, dir, "b.mmstats", data)
		versions := [][]byte{withCounter(t, 42), withCounter(t, 1000)}
		stop := loop(t, func(i int) { replace(t, b, versions[i%2]) })
		seen := map[uint64]int{}
		for range 30 {
			counters, r := slurpJSON(t, nil, dir)
			if r.Code != 0 || r.Stderr != "" || counters[a] != 42 || (counters[b] != 42 && counters[b] != 1000) {
				t.Errorf("exit %d, counters %v, stderr %q", r.Code, counters, r.Stderr)
			}
			seen[counters[b]]++
		}
		stop()
		t.Logf("%s read as each version: %v", b, seen)
	})

	t.Run("cleanstats racing renames", func(t *testing.T) {
		dir := testutil.SharedDir(t, 0o755)
		_, live := testutil.StartWriter(t, nil, "-dir", dir, "-name", "live.mmstats")
		liveSnap := snap(t, live)
		x := filepath.Join(dir, "x.mmstats")
		stop := loop(t, func(int) { replace(t, x, data) })
		decisions := map[string]int{}
		for range 20 {
			r := testutil.Run(t, nil, cleanstats(t), "--json", dir)
			noCrash(t, "cleanstats", r.Stderr)
			if r.Code != 0 || r.Stderr != "" {
				t.Errorf("exit %d, stderr %q", r.Code, r.Stderr)
			}
			for _, l := range lines(r.Stdout) {
				switch {
				case strings.Contains(l, `"path": "`+live+`"`) || strings.Contains(l, `"path":"`+live+`"`):
					if !strings.Contains(l, `alive`) {
						t.Errorf("live file: %s", l)
					}
				default:
					for _, d := range []string{"removed", "skipped", "error", "alive"} {
						if strings.Contains(l, `"`+d+`"`) {
							decisions[d]++
						}
					}
				}
			}
			untouched(t, live, liveSnap)
		}
		stop()
		if decisions["error"] > 0 || decisions["alive"] > 0 {
			t.Errorf("decisions on the renamed file: %v", decisions)
		}
		t.Logf("decisions on the renamed file: %v", decisions)
	})
}

// TestUnreadableFiles: a file with mode 0000 (read by another user when
// this runs as root: root reads anything) is named on one stderr line and
// the other files are still read; cleanstats exits 1 for it and keeps the
// live file.
func TestUnreadableFiles(t *testing.T) {
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = testutil.Nobody(t, "root reads a file of mode 0000")
	}
	dir := testutil.SharedDir(t, 0o755)
	testutil.WriteFile(t, dir, "good.mmstats", template(t))
	secret := testutil.WriteFile(t, dir, "secret.mmstats", template(t))
	if err := os.Chmod(secret, 0); err != nil {
		t.Fatal(err)
	}
	secretSnap := snap(t, secret)

	t.Run("slurpstats", func(t *testing.T) {
		counters, r := slurpJSON(t, cred, dir)
		if r.Code != 1 || len(counters) != 1 || counters[filepath.Join(dir, "good.mmstats")] != 42 {
			t.Errorf("exit %d, counters %v", r.Code, counters)
		}
		oneLineEach(t, "slurpstats", r.Stderr, secret)
		if !strings.Contains(r.Stderr, "permission denied") {
			t.Errorf("stderr does not say why: %q", r.Stderr)
		}
	})
	t.Run("pollstats", func(t *testing.T) { pollOnce(t, cred, dir, 42, secret) })
	t.Run("mmash", func(t *testing.T) {
		m := &mmash{testutil.StartMmash(t, cred, dir)}
		m.wantFiles(t, "", "good.mmstats")
		m.wantSum(t, 42)
		m.stop(t)
	})
	t.Run("cleanstats", func(t *testing.T) {
		os.Remove(filepath.Join(dir, "good.mmstats")) // stale: this is about the others
		_, live := testutil.StartWriter(t, nil, "-dir", dir, "-name", "live.mmstats")
		liveSnap := snap(t, live)
		r := testutil.RunAs(t, cred, cleanstats(t), dir)
		noCrash(t, "cleanstats", r.Stderr)
		if r.Code != 1 || !strings.HasSuffix(r.Stdout, "Removed 0  -  1 alive\n") {
			t.Errorf("exit %d (want 1), stdout:\n%s", r.Code, r.Stdout)
		}
		oneLineEach(t, "cleanstats", r.Stderr, secret)
		untouched(t, live, liveSnap)
	})
	untouched(t, secret, secretSnap)
}

// TestFilesOfAnotherUser (root only): live and stale files of root and of
// nobody side by side in a sticky directory, as in /tmp. Everyone reads
// them all; cleanstats as nobody removes nobody's stale file, cannot
// remove root's (one stderr line, exit 1) and keeps both live ones;
// cleanstats as root removes root's stale file and keeps both live ones.
func TestFilesOfAnotherUser(t *testing.T) {
	cred := testutil.Nobody(t, "files owned by another user")
	dir := testutil.SharedDir(t, os.ModeSticky|0o777)
	_, nobodyLive := testutil.StartWriter(t, cred, "-dir", dir, "-name", "nobody-live.mmstats")
	_, rootLive := testutil.StartWriter(t, nil, "-dir", dir, "-name", "root-live.mmstats")
	rootStale := testutil.WriteFile(t, dir, "root-stale.mmstats", template(t))
	nobodyStale := testutil.WriteFile(t, dir, "nobody-stale.mmstats", template(t))
	if err := os.Chown(nobodyStale, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatal(err)
	}
	lives := map[string]snapshot{nobodyLive: snap(t, nobodyLive), rootLive: snap(t, rootLive)}

	for _, who := range []struct {
		name string
		cred *syscall.Credential
	}{{"root", nil}, {"nobody", cred}} {
		t.Run("slurpstats as "+who.name, func(t *testing.T) {
			counters, r := slurpJSON(t, who.cred, dir)
			if r.Code != 0 || len(counters) != 4 || r.Stderr != "" {
				t.Errorf("exit %d, counters %v, stderr %q", r.Code, counters, r.Stderr)
			}
		})
		t.Run("pollstats as "+who.name, func(t *testing.T) { pollOnce(t, who.cred, dir, 4*42) })
	}
	t.Run("cleanstats as nobody", func(t *testing.T) {
		r := testutil.RunAs(t, cred, cleanstats(t), dir)
		noCrash(t, "cleanstats", r.Stderr)
		if r.Code != 1 || !strings.HasSuffix(r.Stdout, "Removed 1  -  2 alive\n") {
			t.Errorf("exit %d (want 1), stdout:\n%s", r.Code, r.Stdout)
		}
		oneLineEach(t, "cleanstats", r.Stderr, rootStale)
		if _, err := os.Lstat(nobodyStale); !os.IsNotExist(err) {
			t.Errorf("nobody's stale file is still there (%v)", err)
		}
		if _, err := os.Lstat(rootStale); err != nil {
			t.Errorf("root's stale file: %v", err)
		}
	})
	t.Run("cleanstats as root", func(t *testing.T) {
		r := testutil.Run(t, nil, cleanstats(t), dir)
		if r.Code != 0 || r.Stderr != "" || !strings.HasSuffix(r.Stdout, "Removed 1  -  2 alive\n") {
			t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
		}
	})
	for p, s := range lives {
		untouched(t, p, s)
	}
}

// manyFiles is how many files TestManyFiles writes: just over the default
// vm.max_map_count (65,530), or $MMSTATS_MANY_FILES (scripts/bench: 100,000).
func manyFiles(t *testing.T) int {
	if s := os.Getenv("MMSTATS_MANY_FILES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MMSTATS_MANY_FILES=%q", s)
		}
		return n
	}
	return 65600
}

// TestManyFiles: more files than a process may map. pollstats keeps every
// file mapped; past vm.max_map_count it must read copies of the rest,
// with exact sums before and after every file changes. slurpstats reads
// them one at a time; mmash sums them; cleanstats removes them all
// (stale) and keeps a live writer's file.
func TestManyFiles(t *testing.T) {
	n := manyFiles(t)
	limit := maxMapCount()
	dir := testutil.MemDir(t)
	data := template(t)
	offs := counterOffsets(t, data)
	begin := time.Now()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 4 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d.mmstats", i)), data, 0o644); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d files written in %s in %v (vm.max_map_count %d)", n, dir, time.Since(begin).Round(time.Millisecond), limit)
	if n <= limit {
		t.Logf("vm.max_map_count is %d: %d files do not exceed it", limit, n)
	}
	want := uint64(n) * 42

	t.Run("pollstats", func(t *testing.T) {
		// It maps them all: the last ones cannot be, and are read from a
		// copy every interval (one -v warning each).
		begin := time.Now()
		p := start(t, nil, pollstats(t), "-v", "-a", "-d", "0.2", counterLabel, dir)
		p.line(t, 2*time.Minute)
		waitSum(t, p, want, want)
		started := time.Since(begin)
		setCounters(t, dir, n, offs, 43)
		waitSum(t, p, uint64(n)*43, want, uint64(n)*43)
		setCounters(t, dir, n, offs, 42)
		if code := p.stop(t); code != 0 {
			t.Errorf("pollstats: exit %d, want 0", code)
		}
		stderr := p.Stderr()
		noCrash(t, "pollstats", stderr)
		copies := 0
		for _, l := range lines(stderr) {
			switch {
			case strings.HasSuffix(l, ": out of memory mappings, reading a copy of it every interval") && strings.HasPrefix(l, "pollstats: "+dir+"/f"):
				copies++
			case strings.HasPrefix(l, "pollstats: out of memory mappings (vm.max_map_count): the files past them are read again every interval, "):
				copies++ // one line for all the files read again (pollstats/cold.go)
			default:
				t.Errorf("pollstats: unexpected stderr line %q", l)
			}
		}
		if n > limit && copies == 0 {
			t.Errorf("%d files, vm.max_map_count %d, and no file read from a copy", n, limit)
		}
		t.Logf("result: pollstats -a over %s files: exact sums before and after every file changed; %s past vm.max_map_count (%s) read from a copy; first line after %v",
			count(n), count(copies), count(limit), started.Round(time.Millisecond))
	})

	t.Run("slurpstats", func(t *testing.T) {
		begin := time.Now()
		r := testutil.Run(t, nil, slurpstats(t), "-f", counterLabel, dir)
		noCrash(t, "slurpstats", r.Stderr)
		if got := strings.Count(r.Stdout, "==> "); r.Code != 0 || r.Stderr != "" || got != n {
			t.Errorf("slurpstats: exit %d, %d files printed of %d, stderr %q", r.Code, got, n, brief(r.Stderr))
		}
		if got := strings.Count(r.Stdout, counterLabel+" 42\n"); got != n {
			t.Errorf("slurpstats: %d counters at 42, want %d", got, n)
		}
		t.Logf("result: slurpstats read the %s files in %v", count(n), time.Since(begin).Round(time.Millisecond))
	})

	t.Run("mmash", func(t *testing.T) {
		begin := time.Now()
		// An answer may use --max-memory / 2 / --max-requests, and a sum
		// over the files counts some 700 bytes a file: past ~90,000
		// files the default (512 MiB) refuses it, with a message that
		// says to raise --max-memory, as an operator would.
		mem := fmt.Sprintf("%dM", max(512, n*10/1024))
		m := &mmash{testutil.StartMmash(t, nil, dir, "--max-memory", mem)}
		m.wantSum(t, want)
		m.stop(t)
		t.Logf("result: mmash summed the %s files in %v", count(n), time.Since(begin).Round(time.Millisecond))
	})

	t.Run("cleanstats", func(t *testing.T) {
		_, live := testutil.StartWriter(t, nil, "-dir", dir, "-name", "live.mmstats")
		begin := time.Now()
		r := testutil.Run(t, nil, cleanstats(t), "-q", dir)
		noCrash(t, "cleanstats", r.Stderr)
		if r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
			t.Errorf("cleanstats -q: exit %d, stdout %q, stderr %q", r.Code, brief(r.Stdout), brief(r.Stderr))
		}
		left, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) != 1 || left[0].Name() != filepath.Base(live) {
			t.Errorf("cleanstats left %d files, want only %s", len(left), live)
		}
		t.Logf("result: cleanstats removed the %s stale files, and kept the live one, in %v", count(n), time.Since(begin).Round(time.Millisecond))
	})
}

// setCounters writes v as every.counter of files f000000 to f(n-1) in
// dir, in place, as a writer would.
func setCounters(t *testing.T, dir string, n int, offs []int, v uint64) {
	t.Helper()
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], v)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < n; i += 4 {
				f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("f%06d.mmstats", i)), os.O_WRONLY, 0)
				if err != nil {
					t.Error(err)
					return
				}
				for _, off := range offs {
					if _, err := f.WriteAt(b[:], int64(off)); err != nil {
						t.Error(err)
					}
				}
				f.Close()
			}
		}()
	}
	wg.Wait()
}

// waitSum reads pollstats lines until one is want, failing on a line that
// is not in allowed (values that may show on the way) or after a minute.
func waitSum(t *testing.T, p *proc, want uint64, allowed ...uint64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		l := p.line(t, time.Until(deadline))
		v, err := strconv.ParseUint(strings.TrimSpace(l), 10, 64)
		if err != nil {
			t.Fatalf("pollstats printed %q; stderr:\n%s", l, p.Stderr())
		}
		if v == want {
			return
		}
		ok := false
		for _, a := range allowed {
			ok = ok || v == a
		}
		// A change in progress (setCounters) shows a sum between the two.
		if !ok && !(len(allowed) == 2 && v > min(allowed[0], allowed[1]) && v < max(allowed[0], allowed[1])) {
			t.Fatalf("pollstats printed %d while waiting for %d (allowed %v)", v, want, allowed)
		}
	}
}

// rewrite writes data into path in place: the same file, its size back.
func rewrite(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Error(err)
	}
}

var replaceSeq atomic.Int64

// replace writes data to a new file and renames it over path.
func replace(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := fmt.Sprintf("%s.new%d", path, replaceSeq.Add(1))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Error(err)
		return
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Error(err)
	}
}

// loop runs step(0), step(1), ... in a goroutine until the returned stop
// is called (or the test ends).
func loop(t testing.TB, step func(i int)) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			step(i)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
	t.Cleanup(stop)
	return stop
}

func maxMapCount() int {
	b, err := os.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return 65530
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 65530
	}
	return n
}

// count formats n with thousands separators.
func count(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
