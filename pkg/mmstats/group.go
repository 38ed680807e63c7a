package mmstats

import (
	"math"
	"sync/atomic"
	"time"
)

// group writes the derived parts of a composite field: the stats that a
// refresher computes and publishes together. Readers read a group as one
// snapshot, using the sequence word in the head's type signature (see
// package reader): the writer makes it odd, stores every value, and makes
// it even again. Only the File's refresher writes a group, so there is a
// single writer.
type group struct {
	seq   *uint64   // the head's sequence word
	count uint32    // the sequence number
	words []*uint64 // the 8-byte values, in part order (nil for parts the field writes itself)
}

// newGroup returns the writer of the parts at ps; own lists the parts the
// field itself writes on its hot path (not through the group).
func newGroup(mem []byte, ps []placement, own ...int) *group {
	g := &group{words: make([]*uint64, len(ps))}
	if len(ps) > 0 && ps[0].seq >= 0 {
		g.seq = word64(mem, ps[0].seq)
	}
	for i, p := range ps {
		g.words[i] = word64(mem, p.value)
	}
	for _, i := range own {
		g.words[i] = nil
	}
	return g
}

// publish stores values (float64 bits, or uint64 for "Q" parts, as the
// caller encodes them) into the parts, as one snapshot.
func (g *group) publish(values []uint64) {
	g.begin()
	g.store(values)
	g.end()
}

// begin starts an update: the sequence word becomes odd, and readers
// retry until end makes it even again. A swap, not a store: no store
// after it may become visible before it.
func (g *group) begin() {
	if g.seq != nil {
		g.count++
		atomic.SwapUint64(g.seq, seqWord(g.count))
	}
}

// store stores values into the parts (inside begin and end).
func (g *group) store(values []uint64) {
	for i, w := range g.words {
		if w != nil && i < len(values) {
			atomic.StoreUint64(w, values[i])
		}
	}
}

// end ends the update begun by begin.
func (g *group) end() {
	if g.seq != nil {
		g.count++
		atomic.StoreUint64(g.seq, seqWord(g.count))
	}
}

// refresher is a field whose derived stats the File publishes every
// Options.RefreshInterval (and on Refresh and Close).
type refresher interface {
	refresh(now time.Time)
}

func f64(v float64) uint64 { return math.Float64bits(v) }
