package mmstats

// SetRenameat2 turns renameat2 on or off, so that tests on Linux cover
// the fallbacks that FreeBSD always takes (link then unlink to name a
// file, check then rename to grow it), and returns the previous setting.
func SetRenameat2(on bool) bool {
	old := useRenameat2
	useRenameat2 = on
	return old
}
