//go:build darwin || freebsd

package mmstats_test

import "testing"

// smallTmpfs skips the test: only Linux mounts a small tmpfs from a test.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	t.Skip("a full file system comes from a small tmpfs, mounted only on Linux")
	return ""
}
