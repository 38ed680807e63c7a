package pollstats

import (
	"slices"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/pkg/reader"
)

// Totals files (see "Totals files" in package aggregate). When a stats
// file's writer is gone, a folder (the writer's own Remove, cleanstats)
// adds its counters into the totals file of the directory, which it
// replaces by a rename, lists the file's sys.id in the totals file's
// sys.folded, and only then removes the file. pollstats counts the
// totals files like the others, and leaves out a file that a totals file
// holds: its values are in the totals.
//
// A line shows changes, so a fold must move nothing: when a totals file
// is replaced by one that holds files pollstats was reading, the last
// values read from those files move into the new totals file's baseline
// (transfer). The new totals file then shows as its change only what
// those files counted after they were last read, once, and nothing of
// what was shown before: no spike, and no drop of the last counts of a
// worker that exited between two lines. A file that leaves without being
// folded just leaves, its last counts shown already.

// maxDeparted bounds the files that left recently whose last values are
// kept for a totals file that lists them later: a directory listing is
// not atomic, so a folded file may be found gone before the totals file
// that holds it is found. Each costs a value per column.
const maxDeparted = 256

// departedPolls is how many polls a departed file's values are kept.
const departedPolls = 4

// departed is a stats file that left, and its last values.
type departed struct {
	prev []reader.Value // per column: the baseline of a counter, else the zero Value
	tick int            // the poll it left at
}

// totalsOld is what a totals file held before a new one replaced it at
// its path: the files it listed, and its baseline (per column; the zero
// Value where it did not count the column).
type totalsOld struct {
	folded []uint64
	prev   []reader.Value
}

// identify reads what tells t's file, once per open: its sys.id and
// sys.created, whether it is a totals file (aggregate.IsTotals: a
// string sys.folded and no sys.pid), and then the files it holds.
func (p *poller) identify(t *tracked) {
	t.fid, t.hasFID, t.totals, t.newborn = 0, false, false, false
	if t.x != nil {
		t.x.foldedIDs = t.x.foldedIDs[:0]
	}
	folded, pid := -1, false
	scanFields(t.f, func(i int, fl *reader.Field) bool {
		switch convention.DefaultField(fl.Label) {
		case convention.ID:
			if v, err := t.f.Value(i); err == nil && v.Kind() == reader.Uint && v.Uint() != 0 {
				t.fid, t.hasFID = v.Uint(), true
			}
		case convention.Created:
			if v, err := t.f.Value(i); err == nil && v.Kind() == reader.Float {
				created := v.Float() // in seconds since the epoch
				t.newborn = created > 0 && created >= p.started
			}
		case convention.PID:
			pid = true
		}
		if fl.Label == convention.Folded && fl.Sig.Code == 's' {
			folded = i
		}
		return true
	})
	t.totals = folded >= 0 && !pid
	if !t.totals {
		return
	}
	v, err := t.f.Value(folded)
	if err == nil {
		err = convention.ScanFolded(v.Str(), func(e convention.FoldedEntry) bool {
			x := t.more()
			x.foldedIDs = append(x.foldedIDs, e.ID)
			return true
		})
	}
	if err != nil {
		p.log.warnf("%s: %s: %v", cli.Quote(t.path), convention.Folded, err)
	}
	slices.Sort(t.ex().foldedIDs)
}

// identity is what a file at a path was, before another took its place.
type identity struct {
	fid  uint64
	prev []reader.Value // per column: the baseline of a counter, else the zero Value
}

// keepIdentity returns what t's file was, or nil if it has no sys.id.
func (t *tracked) keepIdentity() *identity {
	if !t.hasFID || t.idx == nil {
		return nil
	}
	return &identity{fid: t.fid, prev: t.fileShares()}
}

// joined sets the baselines of t, a file that joined while pollstats
// runs (was: the file at its path before, if any). The same file again
// (its sys.id: the writer grew it into a larger copy) keeps its
// baselines. A file that its writer created after pollstats started
// (sys.created) counts from 0: a worker that replaces another is counted
// whole, from its first request, not from when pollstats first saw its
// file. Any other file counts from when it is first read.
func (p *poller) joined(t *tracked, was *identity) {
	if t.f == nil && !t.cold || t.idx == nil {
		return
	}
	switch {
	case was != nil && t.hasFID && was.fid == t.fid:
		for c := range t.delta {
			if t.idx[c] >= 0 && t.delta[c] && c < len(was.prev) && was.prev[c].Kind() != reader.Invalid {
				t.prev().set(c, baseOf(was.prev[c]))
			}
		}
	case t.newborn:
		for c := range t.delta {
			if t.idx[c] >= 0 && t.delta[c] {
				t.prev().set(c, baseOf(zeroLike(t.prev().get(c).value())))
			}
		}
	}
}

// keepOld returns what the totals file t held, before another file takes
// its place (nil if t is not a totals file): the new one's baseline
// starts from it.
func (t *tracked) keepOld() *totalsOld {
	if !t.totals || t.idx == nil {
		return t.ex().old // not read since the last replacement: still that one's
	}
	o := &totalsOld{folded: slices.Clone(t.ex().foldedIDs), prev: make([]reader.Value, len(t.delta))}
	for c := range t.delta {
		if t.idx[c] >= 0 && t.delta[c] {
			o.prev[c] = t.prev().get(c).value()
		}
	}
	return o
}

// sinceJoined makes t, a file that joined while pollstats runs (at a new
// path, or in place of the file old describes), a totals file whose
// baseline settleFolds sets: what old counted, plus what the files it
// holds that old did not counted when last read. A totals file that
// joins at a new path starts from 0 plus those: what it holds that
// pollstats did not read (a writer that lived between two looks) shows
// as a change, as it is one. An unreadable file waits its turn in
// p.failed, old kept.
func (p *poller) sinceJoined(t *tracked, old *totalsOld) {
	if old == nil {
		old = &totalsOld{}
	}
	if t.f == nil && !t.cold {
		t.more().old = old
		return
	}
	if t.totals {
		t.more().old = old
		p.foldsDue = true
	}
}

// depart keeps the last values of t, a stats file that leaves, for a
// totals file found later that holds it.
func (p *poller) depart(t *tracked) {
	if !t.hasFID || t.totals || t.folded || t.idx == nil || p.absolute {
		return
	}
	if len(p.departed) >= maxDeparted {
		p.expireDeparted(true)
	}
	d := departed{prev: make([]reader.Value, len(t.delta)), tick: p.tick}
	for c := range t.delta {
		if t.idx[c] >= 0 && t.delta[c] {
			d.prev[c] = t.prev().get(c).value()
		}
	}
	if p.departed == nil {
		p.departed = map[uint64]departed{}
	}
	p.departed[t.fid] = d
}

// expireDeparted forgets the departed files kept past departedPolls, or
// with all, every one.
func (p *poller) expireDeparted(all bool) {
	for id, d := range p.departed {
		if all || p.tick-d.tick > departedPolls {
			delete(p.departed, id)
		}
	}
}

// settleFolds gives each totals file that replaced another since the
// last poll its baseline: that of the file it replaced, plus the last
// values of the files it holds that the other did not (see transfer).
// The files it holds are then left out (rebuild, held).
func (p *poller) settleFolds() {
	if len(p.departed) > 0 {
		p.expireDeparted(false)
	}
	if !p.foldsDue {
		return
	}
	p.foldsDue = false
	var fresh map[uint64]*tracked // id -> the totals file that now holds it
	for _, tt := range p.totals {
		o := tt.ex().old
		if o == nil || tt.f == nil && !tt.cold || tt.idx == nil {
			continue
		}
		if tt.x != nil {
			tt.x.old = nil
		}
		for c := range tt.delta {
			if tt.idx[c] < 0 || !tt.delta[c] {
				continue
			}
			if c < len(o.prev) && o.prev[c].Kind() != reader.Invalid {
				tt.prev().set(c, baseOf(o.prev[c]))
			} else {
				tt.prev().set(c, baseOf(zeroLike(tt.prev().get(c).value())))
			}
		}
		for _, id := range tt.ex().foldedIDs {
			if _, had := slices.BinarySearch(o.folded, id); had {
				continue
			}
			if fresh == nil {
				fresh = map[uint64]*tracked{}
			}
			fresh[id] = tt
			if d, ok := p.departed[id]; ok {
				tt.transfer(d.prev)
				delete(p.departed, id)
			}
		}
	}
	if len(fresh) == 0 {
		return
	}
	for _, t := range p.files {
		if !t.hasFID || t.totals || t.idx == nil {
			continue
		}
		tt := fresh[t.fid]
		if tt == nil {
			continue
		}
		tt.transfer(t.fileShares())
		p.log.infof("folded %s into %s", cli.Quote(t.path), cli.Quote(tt.path))
	}
	p.dirty = true
}

// fileShares returns t's baselines of its counter columns (the zero
// Value for the others).
func (t *tracked) fileShares() []reader.Value {
	out := make([]reader.Value, len(t.delta))
	for c := range t.delta {
		if t.idx[c] >= 0 && t.delta[c] {
			out[c] = t.prev().get(c).value()
		}
	}
	return out
}

// transfer adds the last values of a file that t, a totals file, now
// holds to t's baseline: what the file counted until then was shown as
// its changes, and is in t's values now.
func (t *tracked) transfer(prev []reader.Value) {
	for c := range t.delta {
		if c >= len(prev) || t.idx[c] < 0 || !t.delta[c] || prev[c].Kind() == reader.Invalid {
			continue
		}
		t.prev().set(c, baseOf(addValues(t.prev().get(c).value(), prev[c])))
	}
}

// zeroLike returns 0 of v's kind (a float 0 for a float).
func zeroLike(v reader.Value) reader.Value {
	switch v.Kind() {
	case reader.Int:
		return reader.IntValue(0)
	case reader.Float:
		return reader.FloatValue(0)
	}
	return reader.UintValue(0)
}

// addValues returns a+b, of a's kind when both are integers of one kind,
// else a float. A value that is not a number counts 0.
func addValues(a, b reader.Value) reader.Value {
	switch {
	case !isNumber(b):
		return a
	case !isNumber(a):
		return b
	case a.Kind() == reader.Uint && b.Kind() == reader.Uint:
		return reader.UintValue(a.Uint() + b.Uint())
	case a.Kind() == reader.Int && b.Kind() == reader.Int:
		return reader.IntValue(a.Int() + b.Int())
	}
	return reader.FloatValue(asFloat(a) + asFloat(b))
}

func isNumber(v reader.Value) bool {
	k := v.Kind()
	return k == reader.Int || k == reader.Uint || k == reader.Float
}

func asFloat(v reader.Value) float64 {
	switch v.Kind() {
	case reader.Int:
		return float64(v.Int())
	case reader.Uint:
		return float64(v.Uint())
	}
	return v.Float()
}

// held marks the stats files that a totals file holds, which are left
// out, and lists the totals files: at each rebuild, the files being
// what they are now.
func (p *poller) held() {
	p.totals = p.totals[:0]
	clear(p.heldIDs)
	for _, t := range p.files {
		if t.totals && (t.f != nil || t.cold) {
			p.totals = append(p.totals, t)
			if p.heldIDs == nil && len(t.ex().foldedIDs) > 0 {
				p.heldIDs = map[uint64]string{}
			}
			for _, id := range t.ex().foldedIDs {
				p.heldIDs[id] = t.path
			}
		}
	}
	for _, t := range p.files {
		was := t.folded
		t.folded = false
		if t.x != nil {
			t.x.heldBy = ""
		}
		if t.hasFID && !t.totals {
			if by, ok := p.heldIDs[t.fid]; ok {
				t.folded, t.more().heldBy = true, by
			}
		}
		if t.folded && !was {
			p.log.infof("left out %s: %s holds it", cli.Quote(t.path), cli.Quote(t.ex().heldBy))
		}
	}
}
