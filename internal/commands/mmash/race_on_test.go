//go:build race

package mmash

// raceEnabled: the race detector drops sync.Pool items at random, so
// counts of allocations mean nothing under it.
const raceEnabled = true
