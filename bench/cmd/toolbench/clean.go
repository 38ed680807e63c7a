package main

// The anchor of cleanstats's target (issue 15), next to rm(1) of the
// stale files: cleananchor, a minimal cleaner in this binary that makes
// the system calls that removing only stale files safely takes, and no
// others. For each *.mmstats file of DIR, in name order: openat
// (O_NOFOLLOW|O_NONBLOCK), fstat, two preads of the bytes that hold the
// fields' layout and the writer's fields (found once: every file is a
// copy of one), flock(LOCK_EX|LOCK_NB); a file whose lock is held is
// closed; one whose lock is free is renamed to a private name without
// replacing anything (renameat2 RENAME_NOREPLACE), the private name is
// checked to be the file (fstatat), unlinked, and the file closed. One
// goroutine, no parsing, no checks of what it read, no output: rm does
// not read the files, nor move them first; what cleanstats spends over
// this anchor is its own, over rm the price of not removing a live file.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/pkg/reader"
)

// cleanAnchor is the anchor's measure over one set of files, interleaved
// with rm of the same stale files (the rm of measureClean's runs is
// another series).
type cleanAnchor struct {
	Anchor   measure // toolbench cleananchor DIR
	Rm       measure // rm of the stale files, in the same runs
	Verified bool    // exactly the stale files went
	Error    string  `json:",omitempty"`
}

// measureCleanAnchor runs the anchor and rm, interleaved, reps times over
// dir, whose files of indexes live are held by writers and stale not.
func measureCleanAnchor(r *sizeResults, dir string, live, stale []int, data []byte, reps int) {
	a := &r.CleanAnchor
	self, err := os.Executable()
	if err != nil {
		a.Error = err.Error()
		return
	}
	stalePaths := make([]string, len(stale))
	for k, i := range stale {
		stalePaths[k] = filepath.Join(dir, fileName(i))
	}
	var anchors, rms []sample
	a.Verified = true
	for range reps {
		s, err := runChunks("rm", []string{"-f"}, stalePaths)
		if err == nil {
			rms = append(rms, s)
			err = writeCopies(dir, data, stale)
		}
		if err == nil {
			s, err = run(self, []string{"cleananchor", dir})
		}
		if err == nil {
			anchors = append(anchors, s)
			var ok bool
			if ok, err = onlyLeft(dir, live); !ok {
				a.Verified = false
			}
		}
		if err == nil {
			err = writeCopies(dir, data, stale)
		}
		if err != nil {
			a.Error = err.Error()
			return
		}
	}
	a.Anchor, a.Rm = summarize(len(live)+len(stale), anchors), summarize(len(live)+len(stale), rms)
	logf("%d files: cleananchor %v, rm of the stale files %v", len(live)+len(stale), a.Anchor.Wall, a.Rm.Wall)
}

// cleanAnchorMain is `toolbench cleananchor DIR`.
func cleanAnchorMain(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: toolbench cleananchor DIR")
	}
	dir := args[0]
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	names = slices.DeleteFunc(names, func(n string) bool { return !strings.HasSuffix(n, ".mmstats") })
	slices.Sort(names)
	if len(names) == 0 {
		return fmt.Errorf("no files in %s", dir)
	}
	first, err := os.ReadFile(filepath.Join(dir, names[0]))
	if err != nil {
		return err
	}
	ranges, err := layoutRanges(first)
	if err != nil {
		return fmt.Errorf("%s: %w", names[0], err)
	}
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	buf := make([]byte, max(ranges[0][1]-ranges[0][0], ranges[1][1]-ranges[1][0]))
	suffix := fmt.Sprintf(".cleananchor-%016x", time.Now().UnixNano())
	for _, name := range names {
		fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return err
		}
		for _, r := range ranges {
			if _, err := unix.Pread(fd, buf[:r[1]-r[0]], int64(r[0])); err != nil {
				return err
			}
		}
		switch err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); {
		case errors.Is(err, unix.EWOULDBLOCK):
		case err != nil:
			return err
		default:
			aside := "." + name + suffix
			if err := unix.Renameat2(dfd, name, dfd, aside, unix.RENAME_NOREPLACE); err != nil {
				return err
			}
			var as unix.Stat_t
			if err := unix.Fstatat(dfd, aside, &as, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			if as.Dev != st.Dev || as.Ino != st.Ino {
				return fmt.Errorf("%s: replaced", name)
			}
			if err := unix.Unlinkat(dfd, aside, 0); err != nil {
				return err
			}
		}
		unix.Close(fd)
	}
	return nil
}

// layoutRanges returns the two ranges of data that hold its fields'
// layout and small values: from the start to the end of the largest
// field's own value (the rest of it, a histogram's buckets, is skipped),
// and from the end of that field to the end of the last field, as
// cleanstats's reader reads a file of a layout it knows (for the files
// of toolbench tools, bytes [0, 376) and [15752, 17148): cleanstats
// reads [0, 376) and [15752, 17150)).
func layoutRanges(data []byte) ([2][2]int, error) {
	var big reader.Field
	end := 0
	err := reader.Scan(data, func(f *reader.Field) bool {
		if f.End()-f.Offset > big.End()-big.Offset {
			big = *f
		}
		end = f.End()
		return true
	})
	if err != nil {
		return [2][2]int{}, err
	}
	return [2][2]int{{0, big.Value + 8}, {big.End(), end}}, nil // its own value: a word
}
