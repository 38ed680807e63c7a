//go:build race

package clean

// raceEnabled: the race detector's instrumentation allocates where a
// build without it does not (a string concatenation's parts).
const raceEnabled = true
