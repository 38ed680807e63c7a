//go:build !linux && !darwin && !freebsd

package mmstats

// The writer needs mmap with MAP_FIXED, flock and O_NOFOLLOW: it runs on
// Linux, macOS and FreeBSD. Elsewhere (Windows among others) the package
// builds, so that a program using it builds everywhere, but New fails
// with an error wrapping errors.ErrUnsupported; the fields still count,
// in memory.

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

// errUnsupported is the error of every call here.
var errUnsupported = fmt.Errorf("writing stats files is not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// useUnnamed has no effect here.
var useUnnamed = true

func openUnnamed(string) (int, bool, error) { return -1, false, errUnsupported }
func linkUnnamed(int, string) error         { return errUnsupported }
func createExclusive(string) (int, error)   { return -1, errUnsupported }
func lockShared(int) error                  { return errUnsupported }
func reserveBlocks(int, int) error          { return errUnsupported }
func pwriteAll(int, []byte, int) error      { return errUnsupported }
func preadAll(int, []byte, int) error       { return errUnsupported }
func chmod(int, uint32) error               { return errUnsupported }
func closeFD(int) error                     { return errUnsupported }
func mapReserve(int, int) ([]byte, error)   { return nil, errUnsupported }
func remapFixed(int, []byte) error          { return errUnsupported }
func detach([]byte, int) error              { return errUnsupported }
func msync([]byte, bool) error              { return errUnsupported }
func renameNoReplace(string, string) error  { return errUnsupported }
func exchange(string, string) (bool, error) { return false, errUnsupported }
func rename(string, string) error           { return errUnsupported }
func fdID(int) (fileID, error)              { return fileID{}, errUnsupported }
func pathID(string) (fileID, bool, error)   { return fileID{}, false, errUnsupported }
func unlink(string) error                   { return errUnsupported }
func unmap([]byte) error                    { return errUnsupported }
func gettid() int                           { return os.Getpid() }
