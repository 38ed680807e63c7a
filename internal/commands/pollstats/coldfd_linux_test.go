package pollstats

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// openWords opens the files without updating their access time where the
// kernel allows it (noAtime), and once it is refused (EPERM: a file of
// another user, read without root), without it: each file is still
// opened, and the refused flag is not tried again.
func TestOpenWordsWithoutAtime(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, name := range []string{"a.mmstats", "b.mmstats", "c.mmstats"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte{1, 0, 0}, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	t.Cleanup(func() { openFile = openAt })
	for _, refuse := range []bool{false, true} {
		var flags []int
		openFile = func(dirfd int, name string, f int) (int, error) {
			flags = append(flags, f)
			if refuse && f != 0 {
				return -1, unix.EPERM
			}
			return openAt(dirfd, name, f)
		}
		var d dirFDs
		for _, p := range paths {
			fd, ino, size, err := d.openWords(p)
			if err != nil {
				t.Fatalf("refused %v: %s: %v", refuse, p, err)
			}
			var st unix.Stat_t
			if err := unix.Stat(p, &st); err != nil || uint64(st.Ino) != ino || size != 3 {
				t.Errorf("refused %v: %s: inode %d size %d, want %d and 3", refuse, p, ino, size, st.Ino)
			}
			closeWords(fd)
		}
		d.reset()
		want := []int{noAtime, noAtime, noAtime}
		if refuse {
			want = []int{noAtime, 0, 0, 0} // refused once, then never tried
		}
		if len(flags) != len(want) {
			t.Fatalf("refused %v: opened with flags %v, want %v", refuse, flags, want)
		}
		for k := range want {
			if flags[k] != want[k] {
				t.Errorf("refused %v: opened with flags %v, want %v", refuse, flags, want)
				break
			}
		}
	}
}
