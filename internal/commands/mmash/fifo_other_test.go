//go:build !unix

package mmash

import "errors"

// mkfifo fails: this system has no FIFOs in its file system.
func mkfifo(string, uint32) error { return errors.ErrUnsupported }
