//go:build unix

package clean

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestLinkNoReplace: the rename of systems without a rename that refuses
// to replace (FreeBSD) moves a file or a directory to a free name, and
// leaves both names alone when the new one is taken.
func TestLinkNoReplace(t *testing.T) {
	for _, tt := range []struct {
		name       string
		dir, taken bool  // from is a directory; to exists
		want       error // nil: moved
	}{
		{name: "file to a free name"},
		{name: "file to a taken name", taken: true, want: syscall.EEXIST},
		{name: "directory to a free name", dir: true},
		{name: "directory to a taken name", dir: true, taken: true, want: syscall.EEXIST},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := t.TempDir()
			from, to := filepath.Join(d, "from"), filepath.Join(d, "to")
			if tt.dir {
				if err := os.Mkdir(from, 0o755); err != nil {
					t.Fatal(err)
				}
			} else if err := os.WriteFile(from, []byte("from"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.taken {
				if err := os.WriteFile(to, []byte("to"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before, err := os.Lstat(from)
			if err != nil {
				t.Fatal(err)
			}
			dfd, err := openDir(d)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFD(dfd)
			err = linkNoReplace(dfd, "from", "to")
			if !errors.Is(err, tt.want) || (err != nil) != (tt.want != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if b, _ := os.ReadFile(to); string(b) != "to" {
					t.Errorf("to was replaced: %q", b)
				}
				if _, err := os.Lstat(from); err != nil {
					t.Errorf("from is gone: %v", err)
				}
				return
			}
			after, err := os.Lstat(to)
			if err != nil || !os.SameFile(before, after) {
				t.Errorf("to is not the file that was at from: %v", err)
			}
			if _, err := os.Lstat(from); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("from still there: %v", err)
			}
		})
	}
	t.Run("missing source", func(t *testing.T) {
		d := t.TempDir()
		dfd, err := openDir(d)
		if err != nil {
			t.Fatal(err)
		}
		defer closeFD(dfd)
		if err := linkNoReplace(dfd, "nothing", "to"); !errors.Is(err, syscall.ENOENT) {
			t.Errorf("got %v, want ENOENT", err)
		}
	})
}
