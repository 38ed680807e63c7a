//go:build !linux

package mmash

// dirLister lists the stats directory without allocating, on Linux;
// elsewhere expand lists it.
type dirLister struct{}

func openLister(*rootRef) *dirLister { return nil }

func (l *dirLister) close() {}

func (l *dirLister) list(string, *fileCache) (bool, error) { return false, nil }
