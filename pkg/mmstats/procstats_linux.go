package mmstats

// The process's stats on Linux: CPU time from getrusage, the rest from
// /proc/self, through descriptors opened once, so that a refresh is four
// cheap system calls (about 2 µs) and allocates nothing:
//
//   - resident set size: /proc/self/statm, read again with pread;
//   - open descriptors: the size of /proc/self/fd (fstat; Linux 6.2 and
//     later), or on older kernels its entries, counted with getdents;
//   - threads: the link count of /proc/self/task, which is 2 plus the
//     number of threads.
//
// The three descriptors the reader holds are not counted in proc.fds.

import (
	"encoding/binary"
	"errors"

	"golang.org/x/sys/unix"
)

// fdsBySize says whether to count descriptors by the size of
// /proc/self/fd where the kernel gives it; tests turn it off to exercise
// the count by getdents.
var fdsBySize = true

type procReader struct {
	statm, fdDir, taskDir int // -1 when closed
	held                  uint64
	countFDs              bool   // the kernel does not give /proc/self/fd a size
	dents                 []byte // getdents buffer, with countFDs
	buf                   [96]byte
	page                  uint64
}

// open opens what the stats are read from and returns the stats this
// system can give.
func (p *procReader) open() procSet {
	has := procCPU
	p.page = uint64(unix.Getpagesize())
	p.statm, p.fdDir, p.taskDir = -1, -1, -1
	if fd, err := unix.Open("/proc/self/statm", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
		p.statm = fd
		p.held++
		has |= procMem
	}
	if fd, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		p.fdDir = fd
		p.held++
		has |= procFD
		var st unix.Stat_t
		if !fdsBySize || unix.Fstat(fd, &st) != nil || st.Size <= 0 {
			p.countFDs = true
			p.dents = make([]byte, 8192)
		}
	}
	if fd, err := unix.Open("/proc/self/task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
		p.taskDir = fd
		p.held++
		has |= procThread
	}
	return has
}

// read reads the stats into v and returns those it could read.
func (p *procReader) read(v *procValues) procSet {
	var got procSet
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) == nil {
		v.user = float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6
		v.system = float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
		got |= procCPU
	}
	if p.statm >= 0 {
		if n, err := unix.Pread(p.statm, p.buf[:], 0); err == nil {
			if pages, ok := secondNumber(p.buf[:n]); ok {
				v.rss = pages * p.page
				got |= procMem
			}
		}
	}
	if p.fdDir >= 0 {
		if n, ok := p.openFDs(); ok {
			v.fds = n - min(n, p.held)
			got |= procFD
		}
	}
	var st unix.Stat_t
	if p.taskDir >= 0 && unix.Fstat(p.taskDir, &st) == nil && st.Nlink > 2 {
		v.threads = uint64(st.Nlink) - 2
		got |= procThread
	}
	return got
}

// openFDs returns the number of open descriptors of the process.
func (p *procReader) openFDs() (uint64, bool) {
	if !p.countFDs {
		var st unix.Stat_t
		if unix.Fstat(p.fdDir, &st) != nil {
			return 0, false
		}
		return uint64(st.Size), true
	}
	if _, err := unix.Seek(p.fdDir, 0, 0); err != nil {
		return 0, false
	}
	var n uint64
	for {
		k, err := unix.Getdents(p.fdDir, p.dents)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, false
		}
		if k <= 0 {
			break
		}
		n += countDirents(p.dents[:k])
	}
	return n - min(n, 2), true // "." and ".."
}

// countDirents counts the linux_dirent64 records in b: each starts with
// an 8-byte inode, an 8-byte offset and its 2-byte length.
func countDirents(b []byte) uint64 {
	var n uint64
	for off := 0; off+19 <= len(b); {
		reclen := int(binary.NativeEndian.Uint16(b[off+16:]))
		if reclen <= 0 {
			break
		}
		n++
		off += reclen
	}
	return n
}

// secondNumber returns the second decimal number of a line of numbers
// separated by spaces (statm's resident pages).
func secondNumber(b []byte) (uint64, bool) {
	i := 0
	for i < len(b) && b[i] != ' ' {
		i++
	}
	i++
	var v uint64
	digits := 0
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		v = v*10 + uint64(b[i]-'0')
		digits++
	}
	return v, digits > 0 && digits < 20
}

// close closes the descriptors; later reads give the CPU time only.
func (p *procReader) close() {
	for _, fd := range []*int{&p.statm, &p.fdDir, &p.taskDir} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}
