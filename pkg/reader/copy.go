package reader

// Reading a file the process cannot map: a private copy, made consistent
// with the same protocol as a mapped read.

import (
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
)

// errNoMap means that a file cannot be mapped but can be read: the
// process has no mappings left, or the system maps no files (Windows).
var errNoMap = errors.New("cannot map the file")

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
	defer closeFD(fd)
	return fn(opened{fd: fd, size: int(st.Size), id: fileID{Dev: st.Dev, Ino: st.Ino}})
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

// mapBudget returns how many files this package maps at most: a
// sixteenth of vm.max_map_count, and at least 4,096 mappings, are left to
// the rest of the process (the Go runtime's heap and stacks take a few
// dozen).
func mapBudget() int64 {
	if b := mapBudgetVal.Load(); b > 0 {
		return b
	}
	limit := maxMapCount()
	if testMaxMapCount > 0 {
		limit = testMaxMapCount
	}
	budget := budgetFor(limit)
	mapBudgetVal.Store(budget)
	return budget
}

// budgetFor is mapBudget for a process allowed limit mappings.
func budgetFor(limit int64) int64 { return max(limit-max(4096, limit/16), 1) }

// mapFile maps size bytes of fd read-only and shared, so that the mapping
// shows the writer's updates. If the process has no mappings left
// (vm.max_map_count), or the system maps no files, it falls back to a
// private copy read with pread.
func mapFile(fd int, size int) (data []byte, mapped bool, err error) {
	err = errNoMap // past the budget: as if mmap had failed
	if !copyOnly {
		if liveMaps.Add(1) <= mapBudget() {
			if data, err = mmap(fd, size); err == nil {
				return data, true, nil
			}
		} else {
			err = errNoMap
		}
		liveMaps.Add(-1)
	}
	if err != errNoMap {
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
	n, err := pread(fd, data, 0)
	if err != nil {
		return err
	}
	clear(data[n:])
	return nil
}

func unmapFile(data []byte) error {
	liveMaps.Add(-1)
	return munmap(data)
}

// stabilize makes a private copy of a file (the fallback of mapFile)
// consistent where writers use sequence words: a pread of the whole file
// can overlap a string write or a group update and copy a torn value,
// which the sequence word in the copy, frozen like the rest, cannot show.
// So each string field and each group is read again from the file, under
// the same protocol as a mapped read, and the consistent bytes replace
// those of the first copy.
func stabilize(fd int, data []byte, x *index) error {
	wait := maxStringWait // for all the groups of the file together
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
		if err := copyConsistent(fd, data, start, end, f.Seq, group, &wait); err != nil {
			return err
		}
	}
	return nil
}

// copyConsistent preads data[start:end] from fd until the sequence word at
// seq shows that no write overlapped the read. A group whose word stays
// odd (a writer stopped or killed in the middle of an update) is taken as
// it is once wait is spent, as a mapped read takes it: each value is
// whole. wait is shared by the regions of a file, so that a file of many
// stuck groups costs one wait, not one each.
func copyConsistent(fd int, data []byte, start, end, seq int, group bool, wait *time.Duration) error {
	var small [512]byte // most fields and groups fit: no allocation
	var region []byte
	if end-start <= len(small) {
		region = small[:end-start]
	} else {
		region = make([]byte, end-start)
	}
	var w1, w2 [8]byte
	first := time.Now()
	var firstSeq uint32
	for try := 1; ; try++ {
		if _, err := pread(fd, w1[:], int64(seq)); err != nil {
			return err
		}
		begin := time.Now()
		if _, err := pread(fd, region, int64(start)); err != nil {
			return err
		}
		if _, err := pread(fd, w2[:], int64(seq)); err != nil {
			return err
		}
		s1, ok1 := v1.DecodeSeq(w1)
		s2, ok2 := v1.DecodeSeq(w2)
		fresh := time.Since(begin) < maxCopyTime
		if !ok1 || !ok2 { // not a sequence word: nothing to protect
			return nil
		}
		if try == 1 {
			firstSeq = s1
		}
		if fresh && ((group && s1%2 == 0 && s1 == s2) || (!group && consistent(s1, s2))) {
			copy(data[start:end], region)
			*wait -= min(*wait, time.Since(first))
			return nil
		}
		// Give up only after minTries as well as the wait: on a loaded
		// machine a try that was descheduled is not trusted (fresh),
		// and a few such tries must not make a file that nobody writes
		// unreadable.
		if try >= minTries && time.Since(first) > *wait {
			*wait = 0
			if group && s1 == s2 && s1 == firstSeq {
				// The word never moved: a writer stopped (or died) in
				// the middle of an update.
				copy(data[start:end], region)
				return nil
			}
			return ErrBusy
		}
		runtime.Gosched()
	}
}
