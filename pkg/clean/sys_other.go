//go:build !unix

package clean

// A Cleaner needs flock(2), the *at calls and O_NOFOLLOW: it runs on Unix
// systems. Elsewhere (Windows) the package builds, so that the tools
// build, but every path fails with an error wrapping
// errors.ErrUnsupported, and nothing is removed.

import (
	"errors"
	"fmt"
	"runtime"
	"time"
)

// errUnsupported is the error of every call here.
var errUnsupported = fmt.Errorf("removing stale stats files is not supported on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// fileStat is what the rest of the package reads of a file's status.
type fileStat struct{ Size int64 }

// SystemProbe returns a Probe whose every call fails with an error
// wrapping errors.ErrUnsupported.
func SystemProbe() Probe { return unsupportedProbe{} }

type unsupportedProbe struct{}

func (unsupportedProbe) Signal(int) error             { return errUnsupported }
func (unsupportedProbe) Process(int) (Process, error) { return Process{}, errUnsupported }
func (unsupportedProbe) TryLock(int) (bool, error)    { return false, errUnsupported }

func openDir(string) (int, error)               { return -1, errUnsupported }
func lstatAt(int, string, *fileStat) error      { return errUnsupported }
func openAt(int, string) (int, error)           { return -1, errUnsupported }
func fstat(int, *fileStat) error                { return errUnsupported }
func preadFull(int, []byte) ([]byte, error)     { return nil, errUnsupported }
func unlinkAt(int, string) error                { return errUnsupported }
func renameNoReplace(int, string, string) error { return errUnsupported }
func lockExclusive(int) (bool, error)           { return false, errUnsupported }
func lockShared(int) (bool, error)              { return false, errUnsupported }
func mtime(*fileStat) time.Time                 { return time.Time{} }
func closeFD(int)                               {}
func typeName(*fileStat) string                 { return "file" }
func isSymlink(*fileStat) bool                  { return false }
func isRegular(*fileStat) bool                  { return false }
func idOf(*fileStat) fileID                     { return fileID{} }

// takesLock reports whether p's TryLock takes a real lock: not here.
func takesLock(Probe) bool { return false }
