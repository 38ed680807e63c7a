//go:build linux || darwin || freebsd

package mmstats_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

func TestFileNamingAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MMSTATS_PATH", dir)
	t.Setenv("MMSTATS_FILES", "")
	f, err := mmstats.New(nil, mmstats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	cmd := filepath.Base(os.Args[0])
	prefix := fmt.Sprintf("%s-%d-", cmd, os.Getpid())
	base := filepath.Base(f.Path())
	if filepath.Dir(f.Path()) != dir || !strings.HasPrefix(base, prefix) || !strings.HasSuffix(base, ".mmstats") {
		t.Errorf("default name %s, want %s/%sTID.mmstats", f.Path(), dir, prefix)
	}
	tid := strings.TrimSuffix(strings.TrimPrefix(base, prefix), ".mmstats")
	if _, err := strconv.Atoi(tid); err != nil {
		t.Errorf("TID part %q is not a number", tid)
	}

	t.Setenv("MMSTATS_FILES", "env-{PID}.mmstats")
	g, err := mmstats.New(nil, mmstats.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Remove()
	if want := filepath.Join(dir, fmt.Sprintf("env-%d.mmstats", os.Getpid())); g.Path() != want {
		t.Errorf("MMSTATS_FILES gave %s, want %s", g.Path(), want)
	}

	sub := filepath.Join(dir, "p"+strconv.Itoa(os.Getpid()))
	os.Mkdir(sub, 0o755)
	h, err := mmstats.New(nil, mmstats.Options{Dir: filepath.Join(dir, "p{PID}"), Filename: "{CMD}.x.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Remove()
	if want := filepath.Join(sub, cmd+".x.mmstats"); h.Path() != want {
		t.Errorf("templated path %s, want %s", h.Path(), want)
	}
}

func TestDefaultFields(t *testing.T) {
	before := float64(time.Now().UnixNano()) / 1e9
	f, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir(), LabelPrefix: "myapp."})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	got := readAll(t, f.Path())
	checks := map[string]func(reader.Value) bool{
		"myapp.sys.pid":            func(v reader.Value) bool { return v.Uint() == uint64(os.Getpid()) },
		"myapp.sys.tid":            func(v reader.Value) bool { return v.Int() > 0 },
		"myapp.sys.uid":            func(v reader.Value) bool { return v.Uint() == uint64(os.Getuid()) },
		"myapp.sys.gid":            func(v reader.Value) bool { return v.Uint() == uint64(os.Getgid()) },
		"myapp.sys.created":        func(v reader.Value) bool { return v.Float() >= before && v.Float() < before+60 },
		"myapp.org.golang.version": func(v reader.Value) bool { return strings.HasPrefix(v.Str(), runtime.Version()) },
		"myapp.sys.flock":          func(v reader.Value) bool { return v.Bool() },
	}
	types := map[string]string{"myapp.sys.pid": "I", "myapp.sys.tid": "q", "myapp.sys.uid": "Q",
		"myapp.sys.gid": "Q", "myapp.sys.created": "d", "myapp.org.golang.version": "256s", "myapp.sys.flock": "?"}
	for label, ok := range checks {
		s, found := got[label]
		if !found || !ok(s.Value) || s.Type != types[label] {
			t.Errorf("%s = %v (%s, found %v)", label, s.Value, s.Type, found)
		}
	}
}

func TestFileModeAndPages(t *testing.T) {
	old := unix.Umask(0o077)
	defer unix.Umask(old)
	dir := t.TempDir()
	f, err := mmstats.New(nil, mmstats.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	st, err := os.Stat(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 || st.Size()%int64(os.Getpagesize()) != 0 {
		t.Errorf("mode %v size %d, want 0644 and whole pages", st.Mode().Perm(), st.Size())
	}
	g, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "private.mmstats", Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Remove()
	if st, _ := os.Stat(g.Path()); st.Mode().Perm() != 0o600 {
		t.Errorf("Mode 0600 gave %v", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestNewNeverFollowsOrReplaces plants a symlink and a file at the name New
// would use: New fails and leaves both, and their targets, untouched.
func TestNewNeverFollowsOrReplaces(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	os.WriteFile(target, []byte("precious"), 0o644)
	os.Symlink(target, filepath.Join(dir, "link.mmstats"))
	os.WriteFile(filepath.Join(dir, "taken.mmstats"), []byte("someone else's"), 0o644)
	for _, name := range []string{"link.mmstats", "taken.mmstats"} {
		f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: name})
		if !errors.Is(err, os.ErrExist) {
			t.Errorf("New over %s = %v, want ErrExist", name, err)
		}
		if f != nil {
			f.Remove()
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "precious" {
		t.Errorf("symlink target changed: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "taken.mmstats")); string(b) != "someone else's" {
		t.Errorf("existing file changed: %q", b)
	}
	if l, err := os.Readlink(filepath.Join(dir, "link.mmstats")); err != nil || l != target {
		t.Errorf("symlink changed: %q %v", l, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("directory holds %d entries, want the 3 planted", len(entries))
	}
}

func TestWriterHoldsSharedLockUntilClose(t *testing.T) {
	f, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tryExclusive := func() error {
		fd, err := unix.Open(f.Path(), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	}
	if err := tryExclusive(); !errors.Is(err, unix.EWOULDBLOCK) {
		t.Errorf("exclusive lock while the writer lives = %v, want EWOULDBLOCK", err)
	}
	f.Close()
	if err := tryExclusive(); err != nil {
		t.Errorf("exclusive lock after Close = %v", err)
	}
	os.Remove(f.Path())
}

func TestCloseKeepsFieldsUsableAndFile(t *testing.T) {
	var s struct {
		C mmstats.Counter `mmstats:"c"`
		S mmstats.String  `mmstats:"s"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s.C.Add(5)
	if err := f.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.FlushAsync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	s.C.Inc() // after Close: private memory, no fault
	s.S.Set("after close")
	if s.C.Value() != 6 || s.S.Value() != "after close" {
		t.Errorf("fields after Close: %d %q", s.C.Value(), s.S.Value())
	}
	if got := readAll(t, f.Path())["c"].Value.Uint(); got != 5 {
		t.Errorf("file after Close has c=%d, want 5 (updates after Close stay private)", got)
	}
	var late mmstats.Counter
	if err := f.Add("late", &late); !errors.Is(err, mmstats.ErrClosed) {
		t.Errorf("Add after Close = %v", err)
	}
	if err := f.Flush(); !errors.Is(err, mmstats.ErrClosed) {
		t.Errorf("Flush after Close = %v", err)
	}
	if err := f.Remove(); err != nil {
		t.Errorf("Remove after Close: %v", err)
	}
	if _, err := os.Stat(f.Path()); !os.IsNotExist(err) {
		t.Errorf("file still there after Remove: %v", err)
	}
}

func TestAddGrowsUntilMaxSize(t *testing.T) {
	page := os.Getpagesize()
	f, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir(), MaxSize: 3 * page})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	var added int
	var err2 error
	for i := 0; i < 100; i++ {
		var c mmstats.Counter
		if err2 = f.Add(fmt.Sprintf("c%03d.%s", i, strings.Repeat("x", 100)), &c); err2 != nil {
			break
		}
		c.Add(uint64(i))
		added++
	}
	if !errors.Is(err2, mmstats.ErrFileFull) || f.Size() != 3*page {
		t.Fatalf("after %d fields: %v, size %d", added, err2, f.Size())
	}
	got := readAll(t, f.Path())
	for i := 0; i < added; i++ {
		if v := got[fmt.Sprintf("c%03d.%s", i, strings.Repeat("x", 100))].Value.Uint(); v != uint64(i) {
			t.Fatalf("field %d = %d", i, v)
		}
	}
}

func TestRegisterAfterCreation(t *testing.T) {
	f, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir(), LabelPrefix: "late."})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	var m struct {
		Hits mmstats.Counter `mmstats:"hits"`
		Name mmstats.String  `mmstats:"name,size=8"`
	}
	if err := f.Register(&m); err != nil {
		t.Fatal(err)
	}
	m.Hits.Add(3)
	m.Name.Set("abcdefghij")
	got := readAll(t, f.Path())
	if got["late.hits"].Value.Uint() != 3 || got["late.name"].Value.Str() != "abcdefgh" || got["late.name"].Type != "8s" {
		t.Errorf("registered fields: %v %v", got["late.hits"], got["late.name"])
	}
}

// TestRemoveDeletesThreadFilesOfThisProcessOnly follows 0.8.0: with {PID}
// and {TID} in the name, Remove also deletes this process's other files,
// but not other processes' files, symlinks or their targets, nor a file
// whose sys.pid is this PID but that this process did not create (a
// process of another PID namespace may have the same PID).
func TestRemoveDeletesThreadFilesOfThisProcessOnly(t *testing.T) {
	dir := t.TempDir()
	pid := os.Getpid()
	opts := mmstats.Options{Dir: dir, Filename: "app-{PID}-{TID}.mmstats"}
	main, err := mmstats.New(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Another "thread" file of this process, and a file of another process
	// whose name matches the glob too.
	other, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("app-%d-999999.mmstats", pid)})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	foreign := filepath.Join(dir, fmt.Sprintf("app-%d-888888.mmstats", pid))
	copyWithPID(t, other.Path(), foreign, pid+1)
	samePID := filepath.Join(dir, fmt.Sprintf("app-%d-666666.mmstats", pid))
	copyWithPID(t, other.Path(), samePID, pid)
	target := filepath.Join(dir, "target.txt")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, fmt.Sprintf("app-%d-777777.mmstats", pid))
	os.Symlink(target, link)

	if err := main.Remove(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{main.Path(): false, other.Path(): false, foreign: true, samePID: true, link: true, target: true} {
		_, err := os.Lstat(path)
		if exists := err == nil; exists != want {
			t.Errorf("%s exists=%v, want %v", filepath.Base(path), exists, want)
		}
	}
	if err := main.Remove(); err != nil {
		t.Errorf("second Remove: %v", err)
	}
}

// copyWithPID copies a stats file, rewriting its sys.pid.
func copyWithPID(t *testing.T, from, to string, pid int) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	layout, err := reader.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range layout.Fields {
		if fl.Label == "sys.pid" {
			data[fl.Value] = byte(pid)
			data[fl.Value+1] = byte(pid >> 8)
			data[fl.Value+2] = byte(pid >> 16)
			data[fl.Value+3] = byte(pid >> 24)
		}
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRemoveLeavesAReplacedFile(t *testing.T) {
	dir := t.TempDir()
	f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "x.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(f.Path())
	os.WriteFile(f.Path(), []byte("new owner"), 0o644)
	f.Remove()
	if b, _ := os.ReadFile(f.Path()); string(b) != "new owner" {
		t.Errorf("Remove deleted a file it did not create")
	}
}

// TestNextRefresh: the refresh ticks fall on wall-clock multiples of the
// interval, the same in every process, whatever the start time; a timer
// that fires just before a multiple does not refresh twice around it.
func TestNextRefresh(t *testing.T) {
	base := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now      time.Duration // after base
		interval time.Duration
		want     time.Duration // after base
	}{
		{0, time.Second, time.Second},
		{1, time.Second, time.Second},
		{300 * time.Millisecond, time.Second, time.Second},
		{time.Second + time.Millisecond, time.Second, 2 * time.Second},
		{995 * time.Millisecond, time.Second, 2 * time.Second}, // fired 5 ms early
		{980 * time.Millisecond, time.Second, time.Second},
		{1500 * time.Millisecond, 250 * time.Millisecond, 1750 * time.Millisecond},
		{4 * time.Second, 3 * time.Second, 6 * time.Second},
	} {
		got := mmstats.NextRefresh(base.Add(tc.now), tc.interval)
		if want := base.Add(tc.want); !got.Equal(want) {
			t.Errorf("nextRefresh(base+%v, %v) = base+%v, want base+%v", tc.now, tc.interval, got.Sub(base), tc.want)
		}
	}
}
