package reader

import (
	"os"
	"path/filepath"
)

// DefaultPath returns the directory that stats files go to by default:
// $MMSTATS_PATH, or the system's temporary directory.
func DefaultPath() string {
	if p := os.Getenv("MMSTATS_PATH"); p != "" {
		return p
	}
	return os.TempDir()
}

// DefaultGlob returns the pattern the tools read when given no files:
// $MMSTATS_GLOB, or DefaultPath()/*.mmstats.
func DefaultGlob() string {
	if g := os.Getenv("MMSTATS_GLOB"); g != "" {
		return g
	}
	return filepath.Join(DefaultPath(), "*.mmstats")
}
