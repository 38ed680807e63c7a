package prom

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mmstats/mmstats/internal/v1"

	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// Group is the histogram of a group of one file (a Timer's or a
// Histogram's buckets): its head's label and metadata, which name the
// metric, and the buckets.
type Group struct {
	Label string      // the group head's label
	Meta  reader.Meta // the head's metadata: its unit is the metric's
	H     reader.Histogram
	// Err says why H could not be read this time (the file changed
	// under the reader: reader.ErrBusy, ErrFault): the histogram and the
	// stats it stands for are then left out of this exposition, rather
	// than turn into series of other types until the next.
	Err error
	// Field is the field of the file that carries the buckets: the
	// index for File.ReadHistogram, to read the group again.
	Field int
}

// ReadGroups reads the histogram of each group of f that carries buckets
// into hs (reusing its memory) and returns it. A group whose buckets
// cannot be used (reader.ErrBuckets: a crafted descriptor, a range beyond
// float64's) is left out, and the error says why: its stats are then
// exported one by one, as those of a file without buckets. A group that
// could not be read this time is in hs with its Err, and in the error.
func ReadGroups(f *reader.File, hs []Group) ([]Group, error) {
	hs = hs[:0]
	var errs []error
	var head reader.Field
	headIdx := -1
	type carrier struct {
		i    int
		head reader.Field
	}
	var carriers []carrier
	err := f.ScanFields(func(i int, fl *reader.Field) bool {
		if fl.Meta.Role == reader.GroupHead {
			head, headIdx = *fl, i
		}
		if fl.HasBuckets() && headIdx >= 0 && fl.Group == headIdx {
			carriers = append(carriers, carrier{i, head})
		}
		return true
	})
	errs = append(errs, err)
	for _, c := range carriers {
		if len(hs) < cap(hs) {
			hs = hs[:len(hs)+1]
		} else {
			hs = append(hs, Group{})
		}
		h := &hs[len(hs)-1]
		h.Label, h.Meta, h.Field = c.head.Label, c.head.Meta, c.i
		err := f.ReadHistogram(c.i, &h.H)
		if err == nil && !exportable(&h.H) {
			err = fmt.Errorf("%s: %w: its range (schema %d, buckets %d to %d) is beyond float64's", c.head.Label, reader.ErrBuckets, h.H.Schema, h.H.Lo, h.H.Lo+len(h.H.Counts)-1)
		}
		h.Err = err
		if err != nil {
			errs = append(errs, err)
		}
		if errors.Is(err, reader.ErrBuckets) || errors.Is(err, reader.ErrNoHistogram) {
			hs = hs[:len(hs)-1]
		}
	}
	return hs, errors.Join(errs...)
}

// exportable reports whether the bounds of h's window are positive finite
// floats, as Prometheus's buckets must be: a crafted descriptor can place
// the window beyond them (2^100000 at schema 0), and a bound of +Inf
// twice would break the whole exposition.
func exportable(h *reader.Histogram) bool {
	lower, _ := h.BucketBounds(h.Lo)
	_, upper := h.BucketBounds(h.Lo + len(h.Counts))
	return lower > 0 && upper < math.MaxFloat64
}

// histValue is the value of one histogram series: its classic buckets
// (cumulative, at the bounds of a ClassicSchema) and its native histogram
// (zero bucket, spans and deltas, at the writer's schema).
type histValue struct {
	count uint64
	sum   float64

	// Classic: cum[j] is the count of values at or below the bound
	// 2^((first+j)/2^cschema); cschema is the Set's ClassicSchema, or the
	// writer's schema where that is coarser.
	classic ClassicSchema
	cschema int
	first   int
	cum     []uint64

	// Native.
	schema    int32
	zero      float64 // the zero bucket's threshold: the window's lower bound
	zeroCount uint64
	spans     []span
	deltas    []int64
}

type span struct {
	offset int32
	length uint32
}

// bytes is about what v keeps in memory.
func (v *histValue) bytes() int {
	return 128 + 8*len(v.cum) + 8*len(v.spans) + 8*len(v.deltas)
}

// bound returns the classic bound of index j of v.
func (v *histValue) bound(j int) float64 { return v1.BucketUpper(v.cschema, v.first+j) }

// newHistValue converts a reader's histogram, with classic buckets of
// schema classic.
//
// Classic buckets: every bound 2^(k/2^classic) inside the histogram's window
// (from its lower bound, at or below which the underflow counts, to its
// upper bound), so that the files of one program, whose windows are the
// same, have the same bounds and sum by le; the overflow counts in +Inf
// only.
//
// Native: the writer's schema and buckets; the underflow (zero, and
// values at or below the window's lower bound) is the zero bucket, whose
// threshold is that bound, and the overflow (values above the window)
// counts in the bucket just above the window.
func newHistValue(h *reader.Histogram, classic ClassicSchema) *histValue {
	n := len(h.Counts)
	v := &histValue{count: h.Total(), sum: h.Sum, schema: int32(h.Schema), zeroCount: h.Underflow, classic: classic}
	v.zero, _ = h.BucketBounds(h.Lo)

	cs, first, last := classicWindow(h, classic)
	factor := 1 << (h.Schema - cs)
	v.cschema, v.first = cs, first
	if last >= v.first {
		v.cum = make([]uint64, 0, last-v.first+1)
		acc, i := h.Underflow, h.Lo
		for k := v.first; k <= last; k++ {
			for ; i <= k*factor && i < h.Lo+n; i++ {
				acc += h.Counts[i-h.Lo]
			}
			v.cum = append(v.cum, acc)
		}
	}

	// Native spans: runs of buckets with values, where a gap of one or
	// two empty buckets costs less as zeros than as a new span. The
	// deltas run on across spans.
	var prev int64 // the count of the last bucket
	end := 0       // the index after the last bucket, once there is one
	add := func(idx int, c uint64) {
		if gap := idx - end; len(v.spans) > 0 && gap <= 2 {
			for range gap {
				v.deltas = append(v.deltas, -prev)
				prev = 0
			}
			v.spans[len(v.spans)-1].length += uint32(gap)
		} else if len(v.spans) > 0 {
			v.spans = append(v.spans, span{offset: int32(gap)})
		} else {
			v.spans = append(v.spans, span{offset: int32(idx)})
		}
		v.deltas = append(v.deltas, int64(c)-prev)
		prev = int64(c)
		v.spans[len(v.spans)-1].length++
		end = idx + 1
	}
	for k, c := range h.Counts {
		if c != 0 {
			add(h.Lo+k, c)
		}
	}
	if h.Overflow != 0 {
		add(h.Lo+n, h.Overflow)
	}
	return v
}

// classicWindow returns the classic schema of h's buckets (classic, or
// h's own where that is coarser) and the indexes at that schema of its
// first and last bounds inside h's window: from the window's lower
// bound, at or below which the underflow counts, to its upper bound.
// last < first when no bound lies inside.
func classicWindow(h *reader.Histogram, classic ClassicSchema) (cs, first, last int) {
	return classicWindowOf(h.Schema, h.Lo, len(h.Counts), classic)
}

// classicWindowOf is classicWindow of a window of schema s and buckets
// [lo, lo+n).
func classicWindowOf(s, lo, n int, classic ClassicSchema) (cs, first, last int) {
	cs = min(s, int(classic))
	factor := 1 << (s - cs)
	return cs, ceilDiv(lo-1, factor), floorDiv(lo+n-1, factor)
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func ceilDiv(a, b int) int { return -floorDiv(-a, b) }

// replacedBy returns the index in hists of the histogram that stat s is a
// part of, as the histogram exports it (the head's moving average, its
// .count and .sum, and its percentiles .pDIGITS), or -1.
func replacedBy(s *reader.Stat, hists []Group) int {
	for i := range hists {
		head := hists[i].Label
		if !strings.HasPrefix(s.Label, head) {
			continue
		}
		switch rest := s.Label[len(head):]; {
		case rest == "", rest == ".count", rest == ".sum":
			return i
		case strings.HasPrefix(rest, ".p"):
			if h, _, ok := aggregate.QuantileOf(s.Label); ok && h == head && aggregate.PolicyOf(s.Meta) == aggregate.Quantile {
				return i
			}
		}
	}
	return -1
}
