package mmstats

import "github.com/mmstats/mmstats/internal/convention"

// SetUnnamed turns the building of files without a name (O_TMPFILE) on or
// off, so that tests cover the named temporary file too, and returns the
// previous setting.
func SetUnnamed(on bool) bool {
	old := useUnnamed
	useUnnamed = on
	return old
}

// IsTempName reports whether name (a base name) is one of the writer's
// temporary names: ".mmstats.<16 lowercase hex digits>.tmp".
func IsTempName(name string) bool { return convention.IsTempName(name) }

var NextRefresh = nextRefresh
