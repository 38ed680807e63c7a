// Package version holds the version every mmstats tool reports.
package version

import "runtime/debug"

// Version is the release version. Release builds may override it with
// -ldflags "-X github.com/mmstats/mmstats/internal/version.Version=...".
var Version = "0.9.0-dev"

// String returns the version, with the VCS revision when the binary was
// built from a checkout with VCS stamping on.
func String() string {
	v := Version
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
