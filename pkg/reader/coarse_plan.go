package reader

import (
	"runtime/debug"

	"github.com/mmstats/mmstats/internal/v1"
)

// A CoarsePlan is ReadCoarseHistogram's look at one histogram group of
// a layout (which member carries the buckets, which are its .sum, .min
// and .max) made once for the files of that layout: a server that reads
// the histograms of the same files at every request (mmash) then reads
// each at the cost of its words, without comparing the members' labels
// again.
//
// A plan reads only the files of its layout: Read of a file whose
// Layout is another (its own, or one its writer changed since) is
// ReadCoarseHistogram, as is Read of a file that is not mapped, that a
// Snapshot reads, or whose buckets run past its end.
type CoarsePlan struct {
	layout *Layout
	field  int
	parts  histParts
}

// NewCoarsePlan returns the plan of the histogram group of field i of
// f's layout, or ReadCoarseHistogram's error when it has none.
func NewCoarsePlan(f *File, i int) (p *CoarsePlan, err error) {
	if f.data == nil {
		return nil, ErrClosed
	}
	l := f.Layout()
	if l == nil || i < 0 || i >= f.ix().len() {
		return nil, f.ReadCoarseHistogram(i, 0, &CoarseHistogram{})
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	head, end, err := f.groupOf(i)
	if err != nil {
		return nil, err
	}
	parts, err := findHistParts(f.data, f, head, end)
	if err != nil {
		return nil, err
	}
	return &CoarsePlan{layout: l, field: i, parts: parts}, nil
}

// Layout returns the layout p reads.
func (p *CoarsePlan) Layout() *Layout { return p.layout }

// Read is f.ReadCoarseHistogram(i, schema, c), i the field p was made
// for: the same counts, read under the group's sequence word with the
// same waits, ErrFault when the mapping shrank.
func (p *CoarsePlan) Read(f *File, schema int, c *CoarseHistogram) (err error) {
	b := &p.parts.carrier.Buckets
	if f.data == nil || !f.mapped || f.snapOn() || f.Layout() != p.layout || schema < 0 ||
		b.Offset < 0 || b.Offset+v1.PadSize(b.N) > len(f.data) {
		return f.ReadCoarseHistogram(p.field, schema, c)
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	wait := maxStringWait
	return readCoarseParts(f.data, &p.parts, schema, c, &wait)
}
