//go:build !linux

package clean

// foldRole: TestFoldSurvivesKills runs on Linux only.
func foldRole() (int, bool) { return 0, false }
