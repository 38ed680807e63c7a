//go:build !unix

package pollstats

import "errors"

// Without pread, a cold file is read through the Snapshot each interval.

type dirFDs struct{}

func (*dirFDs) openWords(string) (int, uint64, int64, error) { return -1, 0, 0, errors.ErrUnsupported }
func (*dirFDs) reset()                                       {}
func preadWords(int, []byte, int) bool                       { return false }
func closeWords(int)                                         {}
func fdBudget() int                                          { return 0 }
