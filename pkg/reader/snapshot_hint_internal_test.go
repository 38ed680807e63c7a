package reader

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// checkMerged fails unless m, sh's merged checks, say of data (a file
// of sh's size) what sh.matches says; it returns that.
func checkMerged(t *testing.T, sh *shape, m *mergedChecks, data []byte, what string) bool {
	t.Helper()
	want := sh.matches(data, len(data))
	if got := m.matches(data); got != want {
		t.Fatalf("%s: the merged checks say %v, shape.matches %v", what, got, want)
	}
	return want
}

// TestMergedChecksAreMatches: a ShapeHint's merged checks accept exactly
// the files that shape.matches accepts, on copies of files with every
// kind of check (exact bytes, sequence words, buffered and unbuffered
// write_buffer bytes) changed at random bytes of what a Snapshot reads,
// to values the checks tell apart.
func TestMergedChecksAreMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []byte{0, 1, 2, ' ', '\t', '\n', '0', 'a', 0x7f, 0xfe, 0xff}
	for k, data := range shapeSeeds(t) {
		sh := newShape(data, len(data))
		if sh == nil {
			t.Fatalf("seed %d: no shape", k)
		}
		m := newMergedChecks(sh)
		if !checkMerged(t, sh, m, data, "the file itself") {
			t.Fatalf("seed %d: does not match its own shape", k)
		}
		var offs []int // every byte a Snapshot reads, and so the checks
		for _, r := range sh.ranges {
			for o := r.off; o < r.end; o++ {
				offs = append(offs, o)
			}
		}
		matched, not := 0, 0
		for range 3000 {
			other := slices.Clone(data)
			for range 1 + rng.IntN(3) {
				o := offs[rng.IntN(len(offs))]
				if rng.IntN(4) == 0 {
					other[o] = byte(rng.Uint32())
				} else {
					other[o] = values[rng.IntN(len(values))]
				}
			}
			if checkMerged(t, sh, m, other, "a changed copy") {
				matched++
			} else {
				not++
			}
		}
		if matched == 0 || not == 0 {
			t.Errorf("seed %d: %d copies matched, %d did not: the test tells nothing apart", k, matched, not)
		}
	}
}

// FuzzMergedChecksAreMatches is TestMergedChecksAreMatches for any file
// and change.
func FuzzMergedChecksAreMatches(f *testing.F) {
	for _, s := range shapeSeeds(f) {
		f.Add(s, uint32(0), []byte{' '})
		f.Add(s, uint32(len(s)/2), []byte{1})
	}
	f.Fuzz(func(t *testing.T, data []byte, off uint32, patch []byte) {
		sh := newShape(data, len(data))
		if sh == nil {
			return
		}
		m := newMergedChecks(sh)
		checkMerged(t, sh, m, data, "the file itself")
		if len(data) > 0 {
			other := slices.Clone(data)
			copy(other[int(off)%len(other):], patch)
			checkMerged(t, sh, m, other, "a changed copy")
		}
	})
}
