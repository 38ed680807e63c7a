package reader

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/mmstats/mmstats/internal/v1"
)

// shapeHists is what a shape keeps of its histogram groups: the parts
// of each group read so far (findHistParts), by its head, found once
// for all the files of the shape. A poller reading the percentiles of
// ten thousand files found each group's .sum, .min and .max by their
// labels at every read, a seventh of what it spent.
type shapeHists struct {
	mu    sync.Mutex                        // held to add a group
	parts atomic.Pointer[map[int]histParts] // read without the lock; replaced, never changed
}

// partsOf is findHistParts for the group [head, end) of src, from its
// shape's when src is a File of a shared layout. The parts found are the
// layout's, the same for every file of the shape: only whether the
// buckets lie inside this file's data is checked again.
func partsOf(data []byte, src histSource, head, end int) (histParts, error) {
	f, ok := src.(*File)
	if !ok || f.shape == nil {
		return findHistParts(data, src, head, end)
	}
	h := &f.shape.hists
	if m := h.parts.Load(); m != nil {
		if p, ok := (*m)[head]; ok && p.end == end {
			return p, bucketsInside(data, &p)
		}
	}
	p, err := findHistParts(data, src, head, end)
	if err != nil {
		return p, err
	}
	p.end = end
	p.label = bytes.Clone(p.label) // not the file's mapping: the shape outlives it
	h.mu.Lock()
	defer h.mu.Unlock()
	next := map[int]histParts{head: p}
	if m := h.parts.Load(); m != nil {
		for k, v := range *m {
			next[k] = v
		}
	}
	h.parts.Store(&next)
	return p, nil
}

// bucketsInside checks that the bucket counts of parts p lie inside
// data, as findHistParts does.
func bucketsInside(data []byte, p *histParts) error {
	b := &p.carrier.Buckets
	if b.Offset+v1.PadSize(b.N) > len(data) || b.Offset < 0 {
		return &FormatError{Offset: p.carrier.Offset, Err: ErrTruncated, Detail: "histogram buckets run past the end"}
	}
	return nil
}
