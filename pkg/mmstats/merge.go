package mmstats

import (
	"encoding/binary"
	"math"
	"sync/atomic"
)

// A value moves twice in its life, and each time a hot-path update may
// land in the old place after the value was copied to the new one:
//
//   - when its field is added to a file, from the field's in-memory cell
//     to the file: a goroutine that loaded the cell's pointer just before
//     the switch updates the cell afterwards (a straggler);
//   - when the file grows, from the old file to its larger copy: updates
//     made between the copy and the remap land in the old file.
//
// In both cases the writer knows what it copied (was) and can read what
// the old place holds now, once no more updates can reach it or at any
// later time; mergeRule says how the difference is carried over, per
// field type, without losing an increment.
type mergeRule uint8

const (
	// mergeNone: nothing writes the value outside the File's locks
	// (static values, strings, the stats a refresher publishes).
	mergeNone mergeRule = iota
	// mergeAdd: add the change, wrapping (Counter, and the integer
	// gauges that have Add: Uint64, Int32, Uint32). Exact for any number of
	// Inc and Add calls on either side. A Set in the old place racing
	// with an update in the new one yields their sum; the next update
	// repairs it.
	mergeAdd
	// mergeAddFloat: the same for a Float64 (Set and Add).
	mergeAddFloat
	// mergeSet: take the old place's newer value if the new place still
	// holds the copied one; otherwise the new place holds a later Set
	// (Float32, Int16, Uint16, Int8, Bool, and the means of Average and
	// MovingAverage, which are recomputed from memory on each Add).
	mergeSet
)

// merge64 carries the change of an 8-byte value from was to now into p.
func merge64(rule mergeRule, p *uint64, was, now uint64) {
	if was == now {
		return
	}
	switch rule {
	case mergeAdd:
		atomic.AddUint64(p, now-was)
	case mergeAddFloat:
		d := math.Float64frombits(now) - math.Float64frombits(was)
		for {
			old := atomic.LoadUint64(p)
			if atomic.CompareAndSwapUint64(p, old, math.Float64bits(math.Float64frombits(old)+d)) {
				return
			}
		}
	case mergeSet:
		atomic.CompareAndSwapUint64(p, was, now)
	}
}

// merge32 carries the change of a 4-byte value from was to now into p.
func merge32(rule mergeRule, p *uint32, was, now uint32) {
	if was == now {
		return
	}
	switch rule {
	case mergeAdd:
		atomic.AddUint32(p, now-was)
	case mergeSet:
		atomic.CompareAndSwapUint32(p, was, now)
	}
}

// mergeSub carries the change of a 1- or 2-byte value (always mergeSet)
// from was to now into s.
func mergeSub(s subword, was, now uint32) {
	was, now = was&s.mask, now&s.mask
	if was == now {
		return
	}
	for {
		old := atomic.LoadUint32(s.word)
		if old>>s.shift&s.mask != was {
			return // a later Set
		}
		n := old&^(s.mask<<s.shift) | now<<s.shift
		if atomic.CompareAndSwapUint32(s.word, old, n) {
			return
		}
	}
}

// mergeRef is a value of the file that hot-path updates write directly,
// with the rule that carries it through growth.
type mergeRef struct {
	off, size int
	rule      mergeRule
}

// mergeInto carries into mem (the new file) every change between snap
// (what was copied from the old file) and frozen (the old file once no
// update can reach it any more).
func mergeInto(mem, snap, frozen []byte, refs []mergeRef) {
	for _, r := range refs {
		switch r.size {
		case 8:
			merge64(r.rule, word64(mem, r.off), binary.NativeEndian.Uint64(snap[r.off:]), binary.NativeEndian.Uint64(frozen[r.off:]))
		case 4:
			merge32(r.rule, word32(mem, r.off), binary.NativeEndian.Uint32(snap[r.off:]), binary.NativeEndian.Uint32(frozen[r.off:]))
		case 1, 2:
			s := subwordAt(mem, r.off, r.size)
			start := r.off &^ 3
			mergeSub(s, binary.NativeEndian.Uint32(snap[start:])>>s.shift, binary.NativeEndian.Uint32(frozen[start:])>>s.shift)
		}
	}
}
