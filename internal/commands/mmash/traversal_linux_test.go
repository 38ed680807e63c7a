package mmash

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// escapeFixture is fixture plus, outside the stats directory, valid stats
// files whose labels must never show, and symlinks to them (and to /etc)
// inside it. It returns the directories.
func escapeFixture(t *testing.T) (dir, outside string) {
	t.Helper()
	dir = fixture(t)
	outside = t.TempDir() // a sibling of dir: ../NNN/ from it
	v1file.Write(t, filepath.Join(outside, "secret.mmstats"), v1file.Unbuffered("secret.label", "Q", v1file.U64(666)))
	v1file.Write(t, filepath.Join(outside, "etc", "passwd"), v1file.Unbuffered("secret.passwd", "Q", v1file.U64(667)))
	links := map[string]string{
		"etc":                    "/etc",
		"fakeetc":                filepath.Join(outside, "etc"),
		"out.mmstats":            filepath.Join(outside, "secret.mmstats"),
		"relout.mmstats":         filepath.Join("..", filepath.Base(outside), "secret.mmstats"),
		"sub/deep.mmstats":       filepath.Join("..", "..", filepath.Base(outside), "secret.mmstats"),
		"in.mmstats":             "a.mmstats",
		"absin.mmstats":          filepath.Join(dir, "b.mmstats"),
		"sub/up.mmstats":         filepath.Join("..", "a.mmstats"),
		"loop.mmstats":           "loop.mmstats",
		"dangling.mmstats":       "nowhere.mmstats",
		"inside/out.mmstats":     filepath.Join(outside, "secret.mmstats"),
		"inside/ok/in.mmstats":   filepath.Join("..", "..", "a.mmstats"),
		"inside/ok/dirlink":      filepath.Join("..", "..", "sub"),
		"inside/ok/outdirlink":   outside,
		"inside/ok/self.mmstats": "self.mmstats",
	}
	for name, target := range links {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	return dir, outside
}

// watchOpens reports every open or read of the files in dirs (and of the
// directories themselves, which listing them opens).
func watchOpens(t *testing.T, dirs ...string) (events func() int) {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	for _, d := range dirs {
		if _, err := unix.InotifyAddWatch(fd, d, unix.IN_OPEN|unix.IN_ACCESS); err != nil {
			t.Fatalf("inotify watch %s: %v", d, err)
		}
	}
	return func() int {
		n := 0
		buf := make([]byte, 64<<10)
		for {
			k, err := unix.Read(fd, buf)
			if errors.Is(err, unix.EAGAIN) || k <= 0 {
				return n
			}
			for off := 0; off+unix.SizeofInotifyEvent <= k; n++ {
				ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
				off += unix.SizeofInotifyEvent + int(ev.Len)
			}
		}
	}
}

func TestTraversalRefused(t *testing.T) {
	dir, outside := escapeFixture(t)
	s := newTestServer(t, dir)
	events := watchOpens(t, outside, filepath.Join(outside, "etc"))

	refused := []string{
		"/stats/web?glob=../../etc/*",
		"/stats/web?glob=" + strings.ReplaceAll("../../etc/*", "/", "%2f"),
		"/stats/web?glob=/etc/*",
		"/stats/web?glob=%2fetc%2fpasswd",
		"/stats/web?glob=%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"/stats/web?glob=..%2f" + filepath.Base(outside) + "%2fsecret.mmstats",
		"/stats/web?glob=%252e%252e%252fsecret.mmstats", // encoded twice
		"/stats/web?glob=..%252fsecret.mmstats",
		"/stats/web?glob=sub/../../" + filepath.Base(outside) + "/*",
		"/stats/web?glob=a.mmstats%00",
		"/stats/web?glob=" + outside + "/*",
		"/files/..%2f..%2fetc",
		"/files/..%2f..%2fetc%2fpasswd",
		"/files/%2e%2e%2f%2e%2e%2fetc",
		"/files/%2e%2e/%2e%2e/etc/passwd",
		"/files/%252e%252e%252fetc",
		"/files/../../etc/passwd",
		"/files/..",
		"/files/%2fetc%2fpasswd",
		"/files//etc/passwd",
		// Symlinks that lead outside, named or matched by a client's glob.
		"/files/etc",
		"/files/etc/passwd",
		"/files/etc%2fpasswd",
		"/files/etc/*",
		"/files/fakeetc",
		"/files/fakeetc/passwd",
		"/files/fakeetc/*",
		"/files/*etc/passwd",
		"/files/out.mmstats",
		"/files/relout.mmstats",
		"/files/sub/deep.mmstats",
		"/files/*.mmstats",
		"/files/*",
		"/files/*/*",
		"/files/inside/*",
		"/files/inside/ok/*",
		"/files/sub/*",
		"/files/inside/ok/dirlink/*",
		"/files/inside/ok/outdirlink/secret.mmstats",
		"/files/inside/ok/*/*",
		"/stats/secret?glob=out.mmstats",
		"/stats/secret?glob=*",
		"/stats/secret?glob=fakeetc/passwd",
		"/stats/secret?glob=inside/ok/outdirlink/*",
		"/stats/secret.label?exact=1&aggr=sum&glob=*.mmstats",
	}
	for _, target := range refused {
		r := get(t, s, target)
		if r.code != http.StatusBadRequest {
			t.Errorf("GET %s: %d %s, want 400", target, r.code, r.body)
		}
		// The message may repeat the glob, but nothing from outside: no
		// label or value of the files there, no symlink's target.
		leak := strings.Contains(r.body, "secret.label") || strings.Contains(r.body, "secret.passwd") || strings.Contains(r.body, "root:")
		if !strings.Contains(target, filepath.Base(outside)) && strings.Contains(r.body, outside) {
			leak = true
		}
		if leak {
			t.Errorf("GET %s leaks: %s", target, r.body)
		}
	}

	// The default glob skips the links that lead outside and follows
	// those that stay inside.
	for _, target := range []string{"/", "/graph/", "/stats/", "/stats/s", "/stats/secret", "/files/", "/metrics"} {
		r := get(t, s, target)
		if r.code != http.StatusOK {
			t.Errorf("GET %s: %d %s", target, r.code, r.body)
		}
		if strings.Contains(r.body, "secret") {
			t.Errorf("GET %s leaks the outside file:\n%s", target, r.body)
		}
	}
	var files struct{ Files []string }
	getJSON(t, s, "/files/", &files)
	if got := strings.Join(files.Files, " "); got != "a.mmstats absin.mmstats b.mmstats in.mmstats" {
		t.Errorf("/files/ = %s", got)
	}
	ok := map[string]string{
		"/files/sub/[cu]*":               "sub/c.mmstats sub/up.mmstats",
		"/files/inside/ok/*.mmstats":     "inside/ok/in.mmstats",
		"/files/inside/ok/dir*/":         "",
		"/files/inside/ok/dirlink/[cu]*": "inside/ok/dirlink/c.mmstats inside/ok/dirlink/up.mmstats",
		"/files/[ab]*.mmstats":           "a.mmstats absin.mmstats b.mmstats",
		"/files/inside/ok/self.mmstats":  "",
		"/files/dangling.mmstats":        "",
	}
	for target, want := range ok {
		files.Files = nil
		getJSON(t, s, target, &files)
		if got := strings.Join(files.Files, " "); got != want {
			t.Errorf("GET %s = %q, want %q", target, got, want)
		}
	}

	if n := events(); n != 0 {
		t.Errorf("%d opens or reads of files outside the stats directory", n)
	}
	// The watch works: an open outside is seen.
	b, err := os.ReadFile(filepath.Join(outside, "secret.mmstats"))
	if err != nil || len(b) == 0 {
		t.Fatal(err)
	}
	if n := events(); n == 0 {
		t.Error("inotify saw no event for an open outside: the check above proves nothing")
	}
}

func TestCheckGlob(t *testing.T) {
	good := []string{"*.mmstats", "a.mmstats", "sub/*", "[a-c]*", `\*`, "x/y/z", "./a", "a//b", "a.b.mmstats"}
	for _, g := range good {
		if err := checkGlob(g); err != nil {
			t.Errorf("checkGlob(%q) = %v", g, err)
		}
	}
	bad := []string{"/etc", "..", "../x", "a/../b", "a..b", "%2e%2e", "a\x00", "[", "a/[/b"}
	for _, g := range bad {
		if err := checkGlob(g); err == nil {
			t.Errorf("checkGlob(%q) accepted", g)
		}
	}
}

func TestNewServerRefusesBadDefaults(t *testing.T) {
	for _, g := range []string{"", "../*", "/tmp/*", "["} {
		if s, err := newServer(t.TempDir(), g); err == nil {
			s.Close()
			t.Errorf("newServer with glob %q: no error", g)
		}
	}
	if _, err := newServer(filepath.Join(t.TempDir(), "missing"), "*"); err == nil {
		t.Error("newServer of a missing directory: no error")
	}
}
