//go:build !unix

package fold

import (
	"errors"

	"github.com/mmstats/mmstats/internal/fileid"
)

// Folding needs flock(2) and the *at calls: on other systems (Windows)
// every fold fails with an error wrapping errors.ErrUnsupported. Neither
// the writer nor the cleaner creates or removes files there.

type fileStat struct {
	Uid, Gid, Mode uint32
}

func idOf(*fileStat) fileid.ID                  { return fileid.ID{} }
func isRegular(*fileStat) bool                  { return false }
func fstat(int, *fileStat) error                { return errors.ErrUnsupported }
func lstatAt(int, string, *fileStat) error      { return errors.ErrUnsupported }
func openAt(int, string) (int, error)           { return -1, errors.ErrUnsupported }
func createAt(int, string) (int, error)         { return -1, errors.ErrUnsupported }
func tryLock(int) (bool, error)                 { return false, errors.ErrUnsupported }
func readFD(int) ([]byte, error)                { return nil, errors.ErrUnsupported }
func pwriteAll(int, []byte) error               { return errors.ErrUnsupported }
func fchmod(int, uint32) error                  { return errors.ErrUnsupported }
func fchown(int, uint32, uint32) error          { return errors.ErrUnsupported }
func renameAt(int, string, string) error        { return errors.ErrUnsupported }
func renameNoReplace(int, string, string) error { return errors.ErrUnsupported }
func unlinkAt(int, string) error                { return errors.ErrUnsupported }
func closeFD(int)                               {}

// FoldPath fails: see above.
func FoldPath(string, int, func()) (Result, error) { return Result{}, errors.ErrUnsupported }
