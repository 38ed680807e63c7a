//go:build race

package reader_test

// numbersRace: the race detector drops sync.Pool items at random, so
// allocations cannot be counted under it.
const numbersRace = true
