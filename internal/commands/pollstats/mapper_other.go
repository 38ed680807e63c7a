//go:build !linux

package pollstats

// Elsewhere there is no mapping helper (mapper.go): the files past the
// mappings stay on the cold path.

func startMapperProcess(int, int) (mapperConn, error) { return nil, errNoMapper }

// MapperMode reports whether this process was started as pollstats'
// mapping helper: never, but on Linux.
func MapperMode() bool { return false }

// MapperMain runs pollstats' mapping helper: only on Linux.
func MapperMain() int { return 2 }
