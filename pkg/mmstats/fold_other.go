//go:build !linux && !darwin && !freebsd

package mmstats

func openOwn(string, fileID) (int, error)    { return -1, errUnsupported }
func openLocked(string, fileID) (int, error) { return -1, errUnsupported }
