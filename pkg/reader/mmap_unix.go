//go:build unix

package reader

import "golang.org/x/sys/unix"

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

// mapFile maps size bytes of fd read-only and shared, so that the mapping
// shows the writer's updates. If the process has no mappings left
// (vm.max_map_count), it falls back to a private copy read with pread.
func mapFile(fd int, size int) (data []byte, mapped bool, err error) {
	data, err = unix.Mmap(fd, 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err == nil {
		return data, true, nil
	}
	if err != unix.ENOMEM {
		return nil, false, err
	}
	data = make([]byte, size)
	n, err := unix.Pread(fd, data, 0)
	if err != nil {
		return nil, false, err
	}
	return data[:n], false, nil
}

func unmapFile(data []byte) error { return unix.Munmap(data) }
