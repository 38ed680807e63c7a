//go:build unix

package reader

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/fileid"
	"github.com/mmstats/mmstats/internal/v1"
)

// openRegular opens path read-only without blocking (a FIFO cannot hang
// it) and returns the descriptor only if it is a regular file. With
// noFollow, a symlink is refused (O_NOFOLLOW).
func openRegular(path string, noFollow bool) (fd int, st unix.Stat_t, err error) {
	// Refuse non-regular files before opening them: opening some devices
	// has side effects.
	if noFollow {
		err = unix.Lstat(path, &st)
	} else {
		err = unix.Stat(path, &st)
	}
	if err != nil {
		return -1, st, err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return -1, st, ErrSymlink
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return -1, st, ErrNotRegular
	}
	flags := unix.O_RDONLY | unix.O_NONBLOCK | unix.O_CLOEXEC
	if noFollow {
		flags |= unix.O_NOFOLLOW
	}
	fd, err = unix.Open(path, flags, 0)
	if err != nil {
		if err == unix.ELOOP && noFollow {
			err = ErrSymlink
		}
		return -1, st, err
	}
	// The path may have been swapped between the stat and the open.
	if err = unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, st, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, st, ErrNotRegular
	}
	return fd, st, nil
}

// opened is a regular file opened for a File, with what its stat says.
type opened struct {
	fd   int
	size int
	id   fileID
}

// withPath calls fn with the regular file at path (see openRegular),
// closed after.
func withPath(path string, noFollow bool, fn func(o opened) error) error {
	fd, st, err := openRegular(path, noFollow)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return fn(opened{fd: fd, size: int(st.Size), id: fileid.FromStat(&st)})
}

// withFile calls fn with the descriptor of file (OpenFile's), if it is a
// regular file. The descriptor stays file's.
func withFile(file *os.File, fn func(o opened) error) error {
	rc, err := file.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		var st unix.Stat_t
		if ferr = unix.Fstat(int(fd), &st); ferr != nil {
			return
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			ferr = ErrNotRegular
			return
		}
		ferr = fn(opened{fd: int(fd), size: int(st.Size), id: fileid.FromStat(&st)})
	}); err != nil {
		return err
	}
	return ferr
}

// copyOnly makes mapFile take the fallback path, for tests.
var copyOnly bool

// The mappings this package holds are counted and kept under a budget:
// every mapping of a different file is a separate entry of the process's
// memory map, and at vm.max_map_count entries mmap fails for everyone,
// the Go runtime included, which then cannot grow its heap and dies. So a
// process that opens files without closing them (pollstats over 100,000
// files) reads the files past the budget from a private copy instead.
var (
	liveMaps     atomic.Int64
	mapBudgetVal atomic.Int64
)

// mapBudget returns how many files this package maps at most: a quarter
// of vm.max_map_count (at least 4,096) is left to the rest of the process.
func mapBudget() int64 {
	if b := mapBudgetVal.Load(); b > 0 {
		return b
	}
	limit := int64(65530) // the kernel's default
	if b, err := os.ReadFile("/proc/sys/vm/max_map_count"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			limit = n
		}
	}
	budget := max(limit-max(4096, limit/4), 1)
	mapBudgetVal.Store(budget)
	return budget
}

// mapFile maps size bytes of fd read-only and shared, so that the mapping
// shows the writer's updates. If the process has no mappings left
// (vm.max_map_count), it falls back to a private copy read with pread.
func mapFile(fd int, size int) (data []byte, mapped bool, err error) {
	err = unix.ENOMEM // past the budget: as if mmap had failed
	if !copyOnly {
		if liveMaps.Add(1) <= mapBudget() {
			if data, err = unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_SHARED); err == nil {
				return data, true, nil
			}
		} else {
			err = unix.ENOMEM
		}
		liveMaps.Add(-1)
	}
	if err != unix.ENOMEM {
		return nil, false, err
	}
	data = make([]byte, size)
	if err := readCopy(fd, data); err != nil {
		return nil, false, err
	}
	return data, false, nil
}

// readCopy fills data from the start of fd; a file that became shorter
// leaves zeros at the end, which read as the end of the fields.
func readCopy(fd int, data []byte) error {
	n, err := unix.Pread(fd, data, 0)
	if err != nil {
		return err
	}
	clear(data[n:])
	return nil
}

func unmapFile(data []byte) error {
	liveMaps.Add(-1)
	return unix.Munmap(data)
}

// stabilize makes a private copy of a file (the fallback of mapFile)
// consistent where writers use sequence words: a pread of the whole file
// can overlap a string write or a group update and copy a torn value,
// which the sequence word in the copy, frozen like the rest, cannot show.
// So each string field and each group is read again from the file, under
// the same protocol as a mapped read, and the consistent bytes replace
// those of the first copy.
func stabilize(fd int, data []byte, x *index) error {
	groups := x.groups
	for i := 0; i < x.len(); i++ {
		f, err := x.field(data, i, false)
		if err != nil {
			return err
		}
		if f.Seq < 0 {
			continue
		}
		start, end := f.Offset, f.End()
		group := f.Meta.Role == GroupHead
		if group {
			for len(groups) > 0 && int(groups[0].head) < i {
				groups = groups[1:]
			}
			if len(groups) > 0 && int(groups[0].head) == i && int(groups[0].end) > i+1 {
				i = int(groups[0].end) - 1
				last, err := x.field(data, i, false)
				if err != nil {
					return err
				}
				end = last.End()
			}
		}
		if err := copyConsistent(fd, data, start, end, f.Seq, group); err != nil {
			return err
		}
	}
	return nil
}

// copyConsistent preads data[start:end] from fd until the sequence word at
// seq shows that no write overlapped the read.
func copyConsistent(fd int, data []byte, start, end, seq int, group bool) error {
	var small [512]byte // most fields and groups fit: no allocation
	region := small[:0]
	if end-start <= len(small) {
		region = small[:end-start]
	} else {
		region = make([]byte, end-start)
	}
	var w1, w2 [8]byte
	deadline := time.Now().Add(maxStringWait)
	for try := 1; ; try++ {
		if _, err := unix.Pread(fd, w1[:], int64(seq)); err != nil {
			return err
		}
		begin := time.Now()
		if _, err := unix.Pread(fd, region, int64(start)); err != nil {
			return err
		}
		if _, err := unix.Pread(fd, w2[:], int64(seq)); err != nil {
			return err
		}
		s1, ok1 := v1.DecodeSeq(w1)
		s2, ok2 := v1.DecodeSeq(w2)
		fresh := time.Since(begin) < maxCopyTime
		if !ok1 || !ok2 { // not a sequence word: nothing to protect
			return nil
		}
		if fresh && ((group && s1%2 == 0 && s1 == s2) || (!group && consistent(s1, s2))) {
			copy(data[start:end], region)
			return nil
		}
		// Give up only after minTries as well as the wait: on a loaded
		// machine a try that was descheduled is not trusted (fresh),
		// and a few such tries must not make a file that nobody writes
		// unreadable.
		if try >= minTries && time.Now().After(deadline) {
			return ErrBusy
		}
		runtime.Gosched()
	}
}
