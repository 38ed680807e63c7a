//go:build linux || darwin || freebsd

package mmstats_test

// The writer never harms its host: a full file system, names at the
// limits, a kill -9 while a file is built, misuse of a nil *File.

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// bothModes runs fn with files built unnamed (O_TMPFILE) and under a
// named temporary file, the fallback of file systems without O_TMPFILE.
func bothModes(t *testing.T, fn func(t *testing.T)) {
	for _, unnamed := range []bool{true, false} {
		name := map[bool]string{true: "unnamed", false: "named-temp"}[unnamed]
		t.Run(name, func(t *testing.T) {
			old := mmstats.SetUnnamed(unnamed)
			defer mmstats.SetUnnamed(old)
			fn(t)
		})
	}
}

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// fill writes a file in dir until the file system is full, and returns
// its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	w, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	buf := make([]byte, 1024)
	for {
		if _, err := w.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return p
		}
	}
}

// TestFullFileSystem: on a full tmpfs, New and a growing Add fail with
// ENOSPC instead of killing the process with SIGBUS; nothing is left
// behind, the existing file is intact and its fields keep counting.
func TestFullFileSystem(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		dir := smallTmpfs(t, "64k")
		var s struct {
			C mmstats.Counter `mmstats:"c"`
		}
		f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: "live.mmstats"})
		if err != nil {
			t.Fatal(err)
		}
		defer f.Remove()
		s.C.Add(5)
		filler := fill(t, dir)
		before := entries(t, dir)

		g, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "new.mmstats"})
		if !errors.Is(err, syscall.ENOSPC) || g != nil {
			t.Errorf("New on a full file system = %v, %v; want ENOSPC", g, err)
		} else if !strings.Contains(err.Error(), "cannot create a stats file in "+dir) {
			t.Errorf("New's error %q does not name the directory", err)
		}
		if after := entries(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("New left %v behind (before: %v)", after, before)
		}

		size := f.Size()
		var added int
		for ; f.Size() == size; added++ {
			var c mmstats.Counter
			err = f.Add(fmt.Sprintf("extra%03d.%s", added, strings.Repeat("x", 200)), &c)
			if err != nil {
				break
			}
			c.Add(uint64(added))
		}
		if !errors.Is(err, syscall.ENOSPC) || f.Size() != size {
			t.Fatalf("Add that needs to grow a file on a full file system = %v (size %d -> %d); want ENOSPC", err, size, f.Size())
		}
		if after := entries(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("Add left %v behind (before: %v)", after, before)
		}
		s.C.Inc()
		got := readAll(t, f.Path())
		if got["c"].Value.Uint() != 6 {
			t.Errorf("after the failed growth c = %v, want 6", got["c"].Value)
		}
		for i := 0; i < added; i++ {
			if v := got[fmt.Sprintf("extra%03d.%s", i, strings.Repeat("x", 200))].Value.Uint(); v != uint64(i) {
				t.Errorf("field %d added before the disk filled = %d", i, v)
			}
		}

		// With room again, the same Add grows the file.
		os.Remove(filler)
		var c mmstats.Counter
		if err := f.Add(fmt.Sprintf("extra%03d.%s", added, strings.Repeat("x", 200)), &c); err != nil {
			t.Fatalf("Add with room again: %v", err)
		}
		if f.Size() <= size {
			t.Errorf("size %d after growing from %d", f.Size(), size)
		}
		s.C.Inc()
		if got := readAll(t, f.Path()); got["c"].Value.Uint() != 7 {
			t.Errorf("after growth c = %v, want 7", got["c"].Value)
		}
	})
}

// TestFileNameLengths: names up to the file system's 255 bytes work (the
// temporary name no longer grows with the final one), in both modes and
// through growth; a longer name is a clear error.
func TestFileNameLengths(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		dir := t.TempDir()
		for _, n := range []int{240, 255} {
			name := strings.Repeat("n", n-len(".mmstats")) + ".mmstats"
			f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: name, MaxSize: 1 << 20})
			if err != nil {
				t.Errorf("%d-byte name: %v", n, err)
				continue
			}
			for i := 0; f.Size() < 3*os.Getpagesize(); i++ {
				var c mmstats.Counter
				if err := f.Add(fmt.Sprintf("c%d.%s", i, strings.Repeat("y", 100)), &c); err != nil {
					t.Fatalf("%d-byte name, growing: %v", n, err)
				}
			}
			readAll(t, f.Path())
			f.Remove()
		}
		name := strings.Repeat("n", 256)
		f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: name})
		if err == nil || f != nil || !strings.Contains(err.Error(), "file name too long") {
			t.Errorf("256-byte name: %v, %v; want 'file name too long'", f, err)
		}
		if left := entries(t, dir); len(left) != 0 {
			t.Errorf("left behind: %v", left)
		}
	})
}

// TestFileNameMustStayInTheDirectory: a template that expands to more
// (or less) than one path element is refused, and nothing is created.
func TestFileNameMustStayInTheDirectory(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "stats")
	os.Mkdir(dir, 0o755)
	for _, name := range []string{"../escape.mmstats", "sub/x.mmstats", ".", "..", "{CMD}/..", "a\x00b"} {
		f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: name})
		if !errors.Is(err, mmstats.ErrBadName) || f != nil {
			t.Errorf("Filename %q: %v, %v; want ErrBadName", name, f, err)
		}
	}
	if got := entries(t, parent); len(got) != 1 {
		t.Errorf("%s holds %v, want only stats/", parent, got)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("%s holds %v", dir, got)
	}
}

// TestNilFile: the methods of a nil *File (a New that failed) return an
// error instead of panicking, so `defer f.Remove()` is harmless.
func TestNilFile(t *testing.T) {
	f, err := mmstats.New(nil, mmstats.Options{Dir: filepath.Join(t.TempDir(), "missing")})
	if err == nil || f != nil {
		t.Fatalf("New in a missing directory = %v, %v", f, err)
	}
	var c mmstats.Counter
	for name, call := range map[string]func() error{
		"Remove":   f.Remove,
		"Close":    f.Close,
		"Flush":    func() error { return f.Flush() },
		"Add":      func() error { return f.Add("c", &c) },
		"Register": func() error { return f.Register(&struct{ C mmstats.Counter }{}) },
	} {
		if err := call(); !errors.Is(err, mmstats.ErrNilFile) {
			t.Errorf("%s on a nil *File = %v, want ErrNilFile", name, err)
		}
	}
	f.Refresh()
	if f.Path() != "" || f.Size() != 0 {
		t.Errorf("nil *File: Path %q, Size %d", f.Path(), f.Size())
	}
}

// TestCreationErrorNamesTheDirectory: the error says which directory and
// why, never a temporary name.
func TestCreationErrorNamesTheDirectory(t *testing.T) {
	bothModes(t, func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "missing")
		_, err := mmstats.New(nil, mmstats.Options{Dir: missing})
		want := "mmstats: cannot create a stats file in " + missing + ": no such file or directory"
		if err == nil || err.Error() != want || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("New in a missing directory: %v\nwant %s", err, want)
		}
		notDir := filepath.Join(t.TempDir(), "file")
		os.WriteFile(notDir, nil, 0o644)
		_, err = mmstats.New(nil, mmstats.Options{Dir: notDir})
		if want := "mmstats: cannot create a stats file in " + notDir + ": not a directory"; err == nil || err.Error() != want {
			t.Errorf("New in a file: %v\nwant %s", err, want)
		}
	})
}

// TestSecondNewForAnOpenName says what happened: the name is this
// process's own open (or closed) file, or someone else's.
func TestSecondNewForAnOpenName(t *testing.T) {
	dir := t.TempDir()
	opts := mmstats.Options{Dir: dir, Filename: "app.mmstats"}
	f, err := mmstats.New(nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = mmstats.New(nil, opts)
	if !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "already open in this process; use File.Register") {
		t.Errorf("second New: %v", err)
	}
	f.Close()
	_, err = mmstats.New(nil, opts)
	if !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "created by this process and closed") {
		t.Errorf("New after Close: %v", err)
	}
	f.Remove()
	os.WriteFile(filepath.Join(dir, "app.mmstats"), []byte("stale"), 0o644)
	_, err = mmstats.New(nil, opts)
	if !errors.Is(err, os.ErrExist) || !strings.Contains(err.Error(), "a stale file? see cleanstats") {
		t.Errorf("New over another's file: %v", err)
	}
}

// TestInvalidLabelsAreRefused: labels that are not UTF-8 or hold a NUL
// would read back as another label ("dup\xff" and "dup\xfe" as "dup").
func TestInvalidLabelsAreRefused(t *testing.T) {
	dir := t.TempDir()
	f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "x.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	for _, label := range []string{"dup\xff", "dup\xfe", "a\x00b", "\xc3"} {
		var c mmstats.Counter
		if err := f.Add(label, &c); !errors.Is(err, mmstats.ErrInvalidLabel) {
			t.Errorf("Add(%q) = %v, want ErrInvalidLabel", label, err)
		}
	}
	var c mmstats.Counter
	if err := f.Add("ünïcödé", &c); err != nil {
		t.Errorf("a UTF-8 label: %v", err)
	}
	var bad struct {
		C mmstats.Counter `mmstats:"dup\xff"`
	}
	if err := f.Register(&bad); !errors.Is(err, mmstats.ErrInvalidLabel) {
		t.Errorf("Register with a tag label dup\\xff = %v", err)
	}
	var bad2 struct {
		C mmstats.Counter `mmstats:"dup\xfe"`
	}
	if _, err := mmstats.New(&bad2, mmstats.Options{Dir: dir, Filename: "y.mmstats"}); !errors.Is(err, mmstats.ErrInvalidLabel) {
		t.Errorf("New with a tag label dup\\xfe = %v", err)
	}
	if _, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "z.mmstats", LabelPrefix: "web\xff."}); !errors.Is(err, mmstats.ErrInvalidLabel) {
		t.Errorf("New with label prefix web\\xff. = %v", err)
	}
	if got := entries(t, dir); len(got) != 1 {
		t.Errorf("%s holds %v, want x.mmstats only", dir, got)
	}
}

// TestOptionsAFieldIgnoresAreErrors: an option that a field type would
// silently drop is an error.
func TestOptionsAFieldIgnoresAreErrors(t *testing.T) {
	f, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	cases := []struct {
		name  string
		field mmstats.Field
		opts  []mmstats.AddOption
		ok    bool
	}{
		{"timer unit bytes", &mmstats.Timer{}, []mmstats.AddOption{mmstats.WithUnit("bytes")}, false},
		{"timer unit seconds", &mmstats.Timer{}, []mmstats.AddOption{mmstats.WithUnit("seconds")}, true},
		{"timer kind", &mmstats.Timer{}, []mmstats.AddOption{mmstats.WithKind(mmstats.KindGauge)}, false},
		{"histogram kind", &mmstats.Histogram{}, []mmstats.AddOption{mmstats.WithKind(mmstats.KindCounter)}, false},
		{"histogram unit", &mmstats.Histogram{}, []mmstats.AddOption{mmstats.WithUnit("bytes")}, true},
		{"windowed counter kind", &mmstats.Counter{Windows: []time.Duration{time.Second}}, []mmstats.AddOption{mmstats.WithKind(mmstats.KindGauge)}, true},
	}
	for i, c := range cases {
		err := f.Add(fmt.Sprintf("f%d", i), c.field, c.opts...)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, mmstats.ErrModel)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	var tagged struct {
		H mmstats.Histogram `mmstats:"h,kind=gauge"`
	}
	if err := f.Register(&tagged); !errors.Is(err, mmstats.ErrModel) {
		t.Errorf("kind= on a Histogram tag: %v", err)
	}
	var timer struct {
		T mmstats.Timer `mmstats:"t,unit=bytes"`
	}
	if err := f.Register(&timer); !errors.Is(err, mmstats.ErrModel) {
		t.Errorf("unit=bytes on a Timer tag: %v", err)
	}
	for _, o := range []mmstats.Options{{Mode: 0o4755}, {MaxSize: -1}, {RefreshInterval: -time.Second}} {
		o.Dir = t.TempDir()
		if _, err := mmstats.New(nil, o); err == nil {
			t.Errorf("Options %+v accepted (a value that would be dropped silently)", o)
		}
	}
	var big struct {
		S mmstats.String `mmstats:"s,size=100000"`
	}
	if _, err := mmstats.New(&big, mmstats.Options{Dir: t.TempDir(), MaxSize: 4096}); !errors.Is(err, mmstats.ErrFileFull) {
		t.Errorf("fields beyond MaxSize at New: %v, want ErrFileFull", err)
	}
}

// createLoop is the child of TestKillDuringCreation: it creates files in
// dir over and over (growing them too in mode "grow") until killed.
func createLoop(dir, mode string) int {
	mmstats.SetUnnamed(mode != "named")
	fmt.Println("ready")
	for i := 0; ; i++ {
		var s struct {
			C mmstats.Counter `mmstats:"c"`
		}
		// The PID is written out rather than {PID}: such a file is not
		// folded at Remove, which TestFoldSurvivesKills (pkg/clean)
		// kills at every step instead.
		f, err := mmstats.New(&s, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("loop-%d-%d.mmstats", os.Getpid(), i), MaxSize: 1 << 20})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		s.C.Inc()
		for j := 0; mode == "grow" && j < 200; j++ {
			var c mmstats.Counter
			if err := f.Add(fmt.Sprintf("c%d.%s", j, strings.Repeat("z", 60)), &c); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		f.Remove()
	}
}

// TestKillDuringCreation kills a process with SIGKILL at random moments
// while it creates (and grows) files, many times: what is left is only
// complete stats files under their final names and, where a named
// temporary file was used, temporary files that are provably abandoned
// (the ".mmstats.<16 hex>.tmp" name, no lock held), which cleanstats
// removes. Files built unnamed leave no temporary file at all.
func TestKillDuringCreation(t *testing.T) {
	kills := 40
	if testing.Short() {
		kills = 10
	}
	for _, mode := range []string{"unnamed", "named", "grow"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			for k := 0; k < kills; k++ {
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), "MMSTATS_TEST_ROLE=create-loop", "MMSTATS_TEST_DIR="+dir, "MMSTATS_TEST_MODE="+mode)
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				cmd.Stderr = os.Stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 6)
				if _, err := out.Read(buf); err != nil { // "ready"
					t.Fatalf("child: %v", err)
				}
				time.Sleep(time.Duration(rand.Intn(3000)) * time.Microsecond)
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
			}
			var finals, temps int
			for _, name := range entries(t, dir) {
				path := filepath.Join(dir, name)
				switch {
				case strings.HasPrefix(name, "loop-") && strings.HasSuffix(name, ".mmstats"):
					finals++
					stats, err := reader.ReadFile(path)
					if err != nil {
						t.Errorf("%s: %v", name, err)
						continue
					}
					var pid bool
					for _, s := range stats {
						pid = pid || s.Label == "sys.pid"
					}
					if !pid {
						t.Errorf("%s is incomplete: no sys.pid among %d stats", name, len(stats))
					}
				case mmstats.IsTempName(name) && mode != "unnamed":
					temps++
					if !lockFree(t, path) {
						t.Errorf("%s: its lock is held, but its creator is dead", name)
					}
				default:
					t.Errorf("left behind: %s", name)
				}
			}
			t.Logf("%d kills left %d complete stats files and %d abandoned temporary files", kills, finals, temps)
		})
	}
}

// lockFree reports whether an exclusive flock on path can be taken.
func lockFree(t *testing.T, path string) bool {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB) == nil
}
