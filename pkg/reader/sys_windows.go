package reader

// The system calls of the reader on Windows, where it maps no file: every
// file is read into memory (the fallback of mapFile) and made consistent
// under the same protocol as a mapped read (stabilize). Values are then
// those of the last Open or Reload, not live.

import (
	"os"
	"syscall"
)

// fileStat is what the package needs of a file's status: Dev and Ino are
// the volume serial number and the file index.
type fileStat struct {
	Dev, Ino uint64
	Size     int64
}

// openRegular opens path read-only and returns its handle only if it is a
// regular file on disk. With noFollow, a symlink (a reparse point) is
// refused.
func openRegular(path string, noFollow bool) (fd int, fs fileStat, err error) {
	// Refuse what is not a regular file before opening it: opening some
	// devices has side effects.
	var fi os.FileInfo
	if noFollow {
		fi, err = os.Lstat(path)
	} else {
		fi, err = os.Stat(path)
	}
	if err != nil {
		return -1, fs, unwrapPath(err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return -1, fs, ErrSymlink
	}
	if !fi.Mode().IsRegular() {
		return -1, fs, ErrNotRegular
	}
	flags := syscall.O_RDONLY | syscall.O_CLOEXEC
	if noFollow {
		flags |= syscall.FILE_FLAG_OPEN_REPARSE_POINT
	}
	h, err := syscall.Open(path, flags, 0)
	if err != nil {
		return -1, fs, err
	}
	// The path may have been swapped between the stat and the open.
	var info syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(h, &info); err != nil {
		syscall.CloseHandle(h)
		return -1, fs, err
	}
	if t, err := syscall.GetFileType(h); err != nil || t != syscall.FILE_TYPE_DISK ||
		info.FileAttributes&syscall.FILE_ATTRIBUTE_DIRECTORY != 0 {
		syscall.CloseHandle(h)
		return -1, fs, ErrNotRegular
	}
	if info.FileAttributes&syscall.FILE_ATTRIBUTE_REPARSE_POINT != 0 && noFollow {
		syscall.CloseHandle(h)
		return -1, fs, ErrSymlink
	}
	fs = fileStat{
		Dev:  uint64(info.VolumeSerialNumber),
		Ino:  uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow),
		Size: int64(info.FileSizeHigh)<<32 | int64(info.FileSizeLow),
	}
	return int(h), fs, nil
}

// unwrapPath returns the error inside an *os.PathError: the caller adds
// the path itself.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func closeFD(fd int) error { return syscall.CloseHandle(syscall.Handle(fd)) }

// pread reads into b from offset off of fd, as pread(2): a read that
// starts at or past the end of the file reads nothing.
func pread(fd int, b []byte, off int64) (int, error) {
	var done uint32
	ov := syscall.Overlapped{Offset: uint32(off), OffsetHigh: uint32(off >> 32)}
	err := syscall.ReadFile(syscall.Handle(fd), b, &done, &ov)
	if err == syscall.ERROR_HANDLE_EOF {
		return 0, nil
	}
	return int(done), err
}

// mmap maps nothing on Windows: the caller reads a copy.
func mmap(int, int) ([]byte, error) { return nil, errNoMap }

// munmap is never called: nothing is mapped.
func munmap([]byte) error { return nil }

// withFile calls fn with the handle of file (OpenFile's), if it is a
// regular file on disk. The handle stays file's.
func withFile(file *os.File, fn func(o opened) error) error {
	rc, err := file.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(h uintptr) {
		var info syscall.ByHandleFileInformation
		if ferr = syscall.GetFileInformationByHandle(syscall.Handle(h), &info); ferr != nil {
			return
		}
		if t, err := syscall.GetFileType(syscall.Handle(h)); err != nil || t != syscall.FILE_TYPE_DISK ||
			info.FileAttributes&syscall.FILE_ATTRIBUTE_DIRECTORY != 0 {
			ferr = ErrNotRegular
			return
		}
		ferr = fn(opened{
			fd:   int(h),
			size: int(int64(info.FileSizeHigh)<<32 | int64(info.FileSizeLow)),
			id:   fileID{Dev: uint64(info.VolumeSerialNumber), Ino: uint64(info.FileIndexHigh)<<32 | uint64(info.FileIndexLow)},
		})
	}); err != nil {
		return err
	}
	return ferr
}
