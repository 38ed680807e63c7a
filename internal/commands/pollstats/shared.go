package pollstats

import (
	"slices"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Bindings shared among files. The files that share a layout (pkg/reader's
// shapes: the workers of one program) bind the columns to the same
// fields: the same indexes, policies, metadata and histograms. A file
// keeps the bindings of the first file of its layout rather than its
// own, so that what each file holds is its baselines (and its tracked
// entry): at 100,000 files a few hundred bytes less each, and in every
// interval the bindings are read from one place that stays in the cache.
// Bindings are never modified once made: bind makes new ones.

// maxShared bounds the layouts whose bindings are kept: a directory of
// many distinct layouts (crafted files) shares none past it.
const maxShared = 64

// checkShared is how many files of a layout are bound afresh, and found
// to have the bindings of the first, before the rest take them as they
// are (poller.bind): the same indexes, read from the same layout, but
// not made again for each of 100,000 files.
const checkShared = 2

// bindKey is what bindings depend on besides the columns: the layout
// and, with --view, the file's prefix.
type bindKey struct {
	layout *reader.Layout
	prefix string
}

// share makes t, just bound, use the bindings of the files of its layout,
// when they are the same (they always are; checked all the same, since
// they are cheap to compare and a mistake would read another field).
func (p *poller) share(t *tracked) {
	var l *reader.Layout
	switch {
	case t.cold:
		l = t.layout
	case t.f != nil:
		l = t.f.SharedLayout()
	}
	if t.fast != nil && t.f != nil {
		t.f.Forget() // read as words from now on
	}
	if l == nil || t.idx == nil {
		return
	}
	k := bindKey{l, t.ex().prefix}
	b, ok := p.bound[k]
	if !ok {
		if len(p.bound) >= maxShared {
			return
		}
		if p.bound == nil {
			p.bound = map[bindKey]*bindings{}
		}
		p.bound[k] = t.bindings
		return
	}
	if b.same(t.bindings) {
		t.bindings = b
		if p.checked == nil {
			p.checked = map[*bindings]int{}
		}
		p.checked[b]++
	}
}

// same reports whether b and o read the same fields the same way.
func (b *bindings) same(o *bindings) bool {
	return slices.Equal(b.idx, o.idx) && slices.Equal(b.cols, o.cols) && slices.Equal(b.delta, o.delta) &&
		slices.Equal(b.hists, o.hists) && b.fast.equal(o.fast) && b.created == o.created && b.createL == o.createL &&
		slices.Equal(b.strs, o.strs)
}

// sharedBindings returns the bindings of the files of t's layout, when
// known: bind would make the same of t (share checks that it does, for
// the first files of each layout).
func (p *poller) sharedBindings(t *tracked) *bindings {
	if len(p.bound) == 0 {
		return nil
	}
	// The layout of the File read now: a cold file's may have changed
	// since it was opened (t.layout, the key of its bindings).
	var l *reader.Layout
	if t.f != nil {
		l = t.f.SharedLayout()
	}
	if l == nil || t.cold && l != t.layout {
		return nil
	}
	return p.bound[bindKey{l, t.ex().prefix}]
}

// scratch returns the values read from one file, n of them: one buffer
// for every file, used between its read and its shares.
func (p *poller) scratch(n int) []reader.Value {
	if len(p.cur) < n {
		p.cur = make([]reader.Value, n)
	}
	return p.cur[:n]
}
