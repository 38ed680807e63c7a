package reader

import "testing"

// CountFullWaits counts, until the test ends, how many times a read
// spends the rest of its wait budget on a stuck group; it returns the
// count so far.
func CountFullWaits(t testing.TB) func() int {
	n := 0
	fullWaitHook = func() { n++ }
	t.Cleanup(func() { fullWaitHook = nil })
	return func() int { return n }
}
