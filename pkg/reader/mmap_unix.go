//go:build unix

package reader

// The mapping of files on Unix, apart from the other system calls
// (sys_unix.go) as it needs unsafe: unix.Mmap records every mapping in a
// map of its own, under a lock, for its Munmap to find (some 90 bytes a
// mapping, 5 MiB for pollstats over 60,000 files), which this package
// does not need: its Files keep their mappings.

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmap maps size bytes of fd read-only and shared, so that the mapping
// shows the writer's updates. errNoMap means the process has no mappings
// left (ENOMEM).
func mmap(fd, size int) ([]byte, error) {
	if size <= 0 {
		return nil, unix.EINVAL
	}
	p, err := unix.MmapPtr(fd, 0, nil, uintptr(size), unix.PROT_READ, unix.MAP_SHARED)
	if err == unix.ENOMEM {
		return nil, errNoMap
	}
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), size), nil
}

// munmap unmaps data, a whole mapping of mmap.
func munmap(data []byte) error {
	if len(data) == 0 {
		return unix.EINVAL
	}
	return unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(data)), uintptr(cap(data)))
}
