package reader

import "github.com/mmstats/mmstats/internal/convention"

// DefaultPath returns the directory that stats files go to by default:
// $MMSTATS_PATH, or the system's temporary directory.
func DefaultPath() string { return convention.Dir() }

// DefaultGlob returns the pattern the tools read when given no files:
// $MMSTATS_GLOB, or DefaultPath()/*.mmstats.
func DefaultGlob() string { return convention.Glob() }
