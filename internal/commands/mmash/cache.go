package mmash

import (
	"errors"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/reader"
)

// The files of the default glob stay open between requests. Reading
// them again costs mapping, parsing and the garbage of both, for every
// file at every scrape (81 to 98 ms for /metrics over 1,000 files); a
// scrape every 15 s of files whose layouts never change needs none of
// it. So the server keeps each file it read, mapped, with what its
// layout gives (whether it is a totals file, its sys.id, its histogram
// groups), keyed by its name and checked at every request:
//
//   - the directory is listed again (on Linux without allocating, see
//     dirents_linux.go), so a file that appears or leaves is seen at the
//     next request;
//   - a file whose inode is not the one mapped (replaced under its name,
//     grown by its writer, who makes a larger copy) is opened again: a
//     mapping keeps its inode alive, so a new file cannot have the old
//     one's number;
//   - reader.File.Update says, in two loads, whether the writer appended
//     fields or marked the file superseded: then it is opened again too;
//   - a file that cannot be read (it shrank: a fault) is left out of the
//     answer, as before, and opened again next time;
//   - a file read from a copy rather than a mapping (past the mapping
//     budget) is opened again at every request.
//
// Requests that read the default files hold the cache's lock while they
// read: /metrics requests share one reading (flight), and the others
// take milliseconds.
//
// What the cache keeps is what one answer of the default files kept
// before (a mapping and 4 bytes a field per file; the values; for
// /metrics the text that does not change), and requests count it
// against their share as before (job.grow).
type fileCache struct {
	mu      chan struct{}     // its lock (made by newServerConfig): a request waits for it no longer than its time
	ref     *rootRef          // the opening of the directory the entries come from
	lister  *dirLister        // lists it (nil: expand does)
	entries map[string]*entry // by name
	sorted  []*entry          // the last listing, in the order of names
	list    []*entry          // this listing, as it comes
	seen    uint64            // the number of this listing
	folded  aggregate.Folded
	// This reading, in pkg/aggregate's order: stats files then totals
	// files, without the files that a totals file holds.
	read []*entry

	plan metricsPlan // for /metrics in the text format

	// The NumberPlan of each layout of the files read, shared by the
	// files of one layout (all the workers of a program): made when a
	// file is opened, forgotten with the names that go (see arrange).
	nums map[*reader.Layout]*reader.NumberPlan
	// The CoarsePlans of the histogram groups of those layouts, made
	// when a file's groups are first found (on either goroutine of
	// readNumbers: under their lock).
	coarse coarsePlans

	// The goroutine that works beside the request's (prom.Helper):
	// it reads some of the files (readNumbers, numbers) and makes some
	// of the pieces of the compressed text (prom.Plan.AppendGzipWith).
	// Made when first needed, ended with the files (reset).
	help    *prom.Helper
	numbers numbersWork
}

// coarsePlans are the CoarsePlans of the groups of the files' layouts.
type coarsePlans struct {
	mu sync.Mutex
	m  map[coarseKey]*reader.CoarsePlan
}

type coarseKey struct {
	l     *reader.Layout
	field int
}

// plans sets e.coarse: for each of e's groups, the plan of its layout's
// group, made if no file of that layout has it (nil if none can be
// made: ReadCoarseHistogram says why when it is read).
func (cp *coarsePlans) plans(e *entry) {
	if e.byScan {
		return // (its layout is not kept: read by ReadCoarseHistogram)
	}
	l := e.rf.Layout()
	if l == nil {
		return
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.m == nil {
		cp.m = map[coarseKey]*reader.CoarsePlan{}
	}
	e.coarse = e.coarse[:0]
	for k := range e.groups {
		key := coarseKey{l, e.groups[k].Field}
		p, ok := cp.m[key]
		if !ok {
			p, _ = reader.NewCoarsePlan(e.rf, key.field)
			cp.m[key] = p
		}
		e.coarse = append(e.coarse, p)
	}
}

// forget forgets the plans of the layouts not in live.
func (cp *coarsePlans) forget(live map[*reader.Layout]*reader.NumberPlan) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for key := range cp.m {
		if _, ok := live[key.l]; !ok {
			delete(cp.m, key)
		}
	}
}

// entry is one file of the default glob, open.
type entry struct {
	m      match
	rf     *reader.File
	ino    uint64 // the inode mapped (0: unknown, opened again every time)
	cost   int64  // what reading its stats costs, as openMatch counted it
	what   string
	totals bool   // a totals file (aggregate.IsTotals)
	id     uint64 // its sys.id, if hasID
	hasID  bool
	seen   uint64 // the listing that saw it last
	gen    uint64 // bumped when it is opened again
	err    error  // why it could not be read this time
	// verify says that the file kept open is to be looked at (Update)
	// by readNumbers before its numbers are read (arrange, late), and
	// stale that the look found it changed: it is opened again, and the
	// files arranged and read again (see cachedMetrics).
	verify, stale bool

	values  []reader.Value       // its numbers, read at each request (ReadNumbers)
	nums    *reader.NumberPlan   // how, shared by the files of its layout (see numberPlan)
	coarse  []*reader.CoarsePlan // how its groups' histograms are read (nil: without), shared too (see coarsePlans)
	byScan  bool                 // read by ScanStats: a large file of its own layout
	stats   []reader.Stat        // its stats, for eachReader (readStats)
	groups  []prom.Group         // its histogram groups, as ReadGroups found them
	grouped bool                 // groups is read (the first readValues with hist)
	wins    []histWindow         // the window of each group, as loadGroups found it

	// mu is held while a histogram of the file is read for /metrics on
	// one of the goroutines that make its text (see planFork).
	mu sync.Mutex
}

// maxNameCache is the most names of files that do not match the glob
// the cache remembers (a shared /tmp holds many): past it, it forgets
// them all and starts again.
const maxNameCache = 100_000

// cached reports whether a request's glob is the default one, whose
// files the cache keeps.
func cached(glob string) bool { return glob == "" }

// lock takes the cache for a request of j, unless j's time ends first,
// and makes it follow the directory j reads: another opening of it
// (replaced) drops every file.
func (c *fileCache) lock(j *job) error {
	select {
	case c.mu <- struct{}{}:
	case <-j.ctx.Done():
		return j.ctx.Err()
	}
	if c.ref != j.dir {
		c.reset()
		c.ref = j.dir
		if fastGlob(j.s.glob) {
			c.lister = openLister(j.dir)
		}
	}
	return nil
}

func (c *fileCache) unlock() { <-c.mu }

// reset closes every file and forgets the directory.
func (c *fileCache) reset() {
	for _, e := range c.entries {
		e.close()
	}
	c.entries = map[string]*entry{}
	c.sorted, c.list, c.read = nil, nil, nil
	if c.lister != nil {
		c.lister.close()
		c.lister = nil
	}
	c.plan = metricsPlan{}
	c.nums = nil
	c.coarse.forget(nil)
	if c.help != nil {
		c.help.Close() // its goroutine ends
		c.help = nil
	}
	c.ref = nil
}

// close closes the cache's files (the server is closing).
func (c *fileCache) close() {
	c.mu <- struct{}{}
	defer c.unlock()
	c.reset()
}

func (e *entry) close() {
	if e.rf != nil {
		e.rf.Close()
		e.rf = nil
	}
}

// fastGlob reports whether the files of glob can be listed by
// dirLister: one path element, in the directory itself.
func fastGlob(glob string) bool { return !strings.Contains(glob, "/") && glob != "" && glob != "." }

// arrange lists the default files, opens those that are new or changed,
// and leaves in c.read the files of this reading, in pkg/aggregate's
// order. The caller holds the lock. If late, the stats files kept open
// are not looked at here (reader.File.Update) but by readNumbers, each
// just before its numbers are read, on the goroutine that reads them
// (see entry.verify): a thousand files' looks were a third of a
// millisecond on one goroutine before the reading on two, each a miss
// of the caches that the reading of the file then makes again.
func (c *fileCache) arrange(j *job, late bool) error {
	c.seen++
	c.list = c.list[:0]
	fast := false
	if c.lister != nil {
		ok, err := c.lister.list(j.s.glob, c)
		if err != nil {
			return err
		}
		fast = ok
	}
	if !fast {
		if err := c.expand(j); err != nil {
			return err
		}
	}
	if err := j.grow(len(c.list) * labelCost); err != nil {
		return err
	}
	// The order of names: the last one, unless the names changed.
	same := len(c.list) == len(c.sorted)
	for i := 0; same && i < len(c.list); i++ {
		same = c.sorted[i].seen == c.seen
	}
	if !same {
		c.sorted = append(c.sorted[:0], c.list...)
		slices.SortFunc(c.sorted, func(a, b *entry) int { return strings.Compare(a.m.name, b.m.name) })
		for name, e := range c.entries {
			if e.seen != c.seen {
				e.close()
				delete(c.entries, name)
			}
		}
		c.forgetPlans()
	}
	// Open what is new or changed, stats files first: the totals files
	// are looked at after them (see eachReader).
	c.read = c.read[:0]
	var totals []*entry
	for _, e := range c.sorted {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		if err := c.refresh(j, e, late); err != nil {
			return err
		}
		if e.rf == nil {
			continue
		}
		if e.totals {
			totals = append(totals, e)
			continue
		}
		c.read = append(c.read, e)
	}
	// A fold replaces the totals file under its name: the totals files
	// are checked again now, after the stats files, so that a stats file
	// folded meanwhile is in the totals file read (and left out below).
	c.folded.Reset()
	kept := totals[:0]
	for _, e := range totals {
		if ino, ok := c.inode(j, e); !ok || ino != e.ino {
			e.ino = 0
			if err := c.refresh(j, e, false); err != nil {
				return err
			}
		}
		if e.rf == nil {
			continue
		}
		if !e.totals { // replaced by a stats file meanwhile
			c.read = append(c.read, e)
			continue
		}
		if err := c.folded.Add(e.rf); err != nil {
			// A totals file whose sys.folded cannot be read: the files it
			// holds may count twice. Logged once, and read.
			var pe *reader.PathError
			msg := err.Error()
			if errors.As(err, &pe) {
				msg = pe.Err.Error()
			}
			j.s.fileLog(path.Join(j.s.dir.path, e.m.name), msg)
		}
		kept = append(kept, e)
	}
	if c.folded.Len() > 0 {
		k := 0
		for _, e := range c.read {
			if !e.hasID || !c.folded.Has(e.id) {
				c.read[k] = e
				k++
			}
		}
		c.read = c.read[:k]
	}
	c.read = append(c.read, kept...)
	return nil
}

// expand lists the default files as requests of other globs do (the
// glob has more than one element, or the directory holds names that
// are not plain files, or there is no dirLister here), and each file's
// inode by a stat of its own.
func (c *fileCache) expand(j *job) error {
	matches, err := j.files("")
	if err != nil {
		return err
	}
	j.used -= int64(len(matches) * labelCost) // counted by arrange
	for _, m := range matches {
		e := c.entries[m.name]
		if e == nil || e.m != m {
			if e != nil {
				e.close()
			}
			e = &entry{m: m}
			c.entries[m.name] = e
		}
		if e.ino != 0 {
			if ino, ok := c.inode(j, e); !ok || ino != e.ino {
				e.ino = 0
			}
		}
		e.seen = c.seen
		c.list = append(c.list, e)
	}
	return nil
}

// saw records that the listing found name with inode ino (0: unknown).
func (c *fileCache) saw(name []byte, ino uint64) {
	e := c.entries[string(name)]
	if e == nil {
		n := string(name)
		e = &entry{m: match{name: n, real: n}}
		c.entries[n] = e
	}
	if e.ino != ino {
		e.ino = 0 // opened again
	}
	e.seen = c.seen
	c.list = append(c.list, e)
}

// inode returns the inode that e's name has now.
func (c *fileCache) inode(j *job, e *entry) (uint64, bool) {
	fi, err := j.dir.root.Lstat(e.m.real)
	if err != nil {
		return 0, false
	}
	return inodeOf(fi)
}

// refresh opens e if it is new, changed or was not readable, and tells
// whether it has anything new otherwise; e.rf is nil when the file
// cannot be read this time. Its error ends the request. If late, a
// stats file kept open is left for readNumbers to look at (verify).
func (c *fileCache) refresh(j *job, e *entry, late bool) error {
	e.err, e.verify, e.stale = nil, false, false
	if e.rf != nil && e.ino != 0 && !e.rf.IsCopy() {
		if late && !e.totals {
			e.verify = true
			return nil
		}
		if changed, err := e.rf.Update(); err == nil && !changed {
			return nil
		}
	}
	return c.reopen(j, e)
}

// reopen opens e again (see refresh).
func (c *fileCache) reopen(j *job, e *entry) error {
	e.close()
	e.gen++
	o, err := j.openMatch(e.m)
	if err := j.fatal(e.m, err); err != nil {
		return err
	}
	if o == nil {
		return nil
	}
	e.rf, e.cost, e.what, e.ino = o.f, o.cost, o.what, o.ino
	if o.f.IsCopy() {
		e.ino = 0 // read again at every request
	}
	// The layout, for ReadNumbers: shared with the other files of the
	// same layout, or built and kept for a file of a few thousand
	// fields; larger ones are read field by field (ScanStats), so that
	// what is kept stays 4 bytes a field.
	e.byScan = e.rf.SharedLayout() == nil && e.rf.Len() > maxLayoutFields
	e.nums = nil
	if !e.byScan {
		e.nums = c.numberPlan(e.rf)
	}
	e.totals = aggregate.IsTotals(e.rf)
	e.id, e.hasID = aggregate.FileID(e.rf)
	e.values = make([]reader.Value, e.rf.Len())
	e.groups, e.grouped = e.groups[:0], false // read when asked (readValues)
	e.coarse = e.coarse[:0]
	return nil
}

// numberPlan returns the NumberPlan of f's layout, made if no file of
// that layout has one (nil if f's numbers are read by ReadNumbers).
func (c *fileCache) numberPlan(f *reader.File) *reader.NumberPlan {
	l := f.Layout()
	if l == nil {
		return nil
	}
	if p, ok := c.nums[l]; ok {
		return p
	}
	if c.nums == nil {
		c.nums = map[*reader.Layout]*reader.NumberPlan{}
	}
	if len(c.nums) > 16+2*len(c.entries) {
		c.forgetPlans() // files replaced by files of other layouts
	}
	p := reader.NewNumberPlan(f)
	c.nums[l] = p
	return p
}

// forgetPlans forgets the NumberPlans of the layouts that no file has
// now (their files went, or were opened again with another layout):
// a plan holds its layout.
func (c *fileCache) forgetPlans() {
	live := make(map[*reader.Layout]*reader.NumberPlan, len(c.nums))
	for _, e := range c.entries {
		if e.nums != nil {
			live[e.nums.Layout()] = e.nums
		}
	}
	c.nums = live
	c.coarse.forget(live)
}

// maxLayoutFields is the most fields of a file whose layout the cache
// keeps built (about 200 bytes a field) when no other file shares it.
const maxLayoutFields = 4096

// readValues reads e's numbers, and its histograms if hist; an error
// (the file shrank under the reader, a group stuck) leaves e out of this
// answer, and has it opened again at the next request.
func (e *entry) readValues(hist bool) error {
	if e.byScan {
		i := 0
		err := e.rf.ScanStats(func(s *reader.Stat) bool {
			if i < len(e.values) {
				e.values[i] = s.Value
			}
			i++
			return true
		})
		if err != nil {
			return e.fail(err)
		}
	} else if err := e.nums.Read(e.rf, e.values); err != nil {
		// (A nil plan, or one of a layout that is no longer the file's,
		// reads as ReadNumbers.)
		return e.fail(err)
	}
	if !hist {
		return nil
	}
	if !e.grouped {
		return e.loadGroups() // read just now
	}
	for k := range e.groups {
		if err := e.readHistogram(k, &e.groups[k].H); err != nil {
			return err
		}
	}
	return nil
}

// histWindow is the window of a histogram's buckets: its place in the
// layout, which a file keeps while its layout stays.
type histWindow struct{ lo, n, schema int }

// loadGroups finds e's histogram groups the first time: those that
// carry buckets that can be exported, as metrics finds them
// (prom.ReadGroups), and their windows.
func (e *entry) loadGroups() error {
	if e.grouped {
		return nil
	}
	e.groups, _ = prom.ReadGroups(e.rf, e.groups[:0])
	e.grouped = true
	e.wins = e.wins[:0]
	for k := range e.groups {
		h := &e.groups[k].H
		e.wins = append(e.wins, histWindow{h.Lo, len(h.Counts), h.Schema})
		if e.groups[k].Err != nil {
			return e.fail(e.groups[k].Err)
		}
	}
	return nil
}

// readHistogram reads group k of e into h: an error, or a window that
// is not the one loadGroups found (the layout changed under the
// reader), leaves e out of this answer.
func (e *entry) readHistogram(k int, h *reader.Histogram) error {
	w := e.wins[k]
	err := e.rf.ReadHistogram(e.groups[k].Field, h)
	if err != nil || h.Lo != w.lo || len(h.Counts) != w.n || h.Schema != w.schema {
		return e.fail(errors.Join(err, errWindow))
	}
	return nil
}

// readCoarse is readHistogram with the counts summed at schema
// (reader.File.ReadCoarseHistogram).
func (e *entry) readCoarse(k, schema int, c *reader.CoarseHistogram) error {
	w := e.wins[k]
	var err error
	if k < len(e.coarse) && e.coarse[k] != nil {
		err = e.coarse[k].Read(e.rf, schema, c)
	} else {
		err = e.rf.ReadCoarseHistogram(e.groups[k].Field, schema, c)
	}
	if err != nil || c.Lo != w.lo || c.N != w.n || c.Schema != w.schema {
		return e.fail(errors.Join(err, errWindow))
	}
	return nil
}

var errWindow = errors.New("a histogram's window changed")

// readStats reads e's stats: its numbers and histograms (readValues),
// its strings, and the labels of its layout, into a slice it keeps for
// the next request: what File.Stats returns, at the cost of the strings
// alone.
func (e *entry) readStats(hist bool) ([]reader.Stat, error) {
	if err := e.readValues(hist); err != nil {
		return nil, err
	}
	if e.byScan {
		stats, err := e.rf.Stats()
		if err != nil {
			return nil, e.fail(err)
		}
		return stats, nil
	}
	fields := e.rf.Fields()
	e.stats = e.stats[:0]
	for i := range fields {
		f := &fields[i]
		v := e.values[i]
		if reader.KindOf(f.Sig.Code) == reader.String {
			var err error
			if v, err = e.rf.Value(i); err != nil {
				return nil, e.fail(err)
			}
		}
		e.stats = append(e.stats, reader.Stat{Label: f.Label, Type: f.Sig.Text, Value: v, Meta: f.Meta})
	}
	return e.stats, nil
}

// cachedGroups returns the histogram groups of f, read by readStats, if
// f is the file of the cache that j is reading; else ok is false.
func (j *job) cachedGroups(f *reader.File) (groups []prom.Group, ok bool) {
	if j.cur == nil || j.cur.rf != f || !j.cur.grouped {
		return nil, false
	}
	return j.cur.groups, true
}

func (e *entry) fail(err error) error {
	e.err = err
	e.ino = 0 // opened again next time
	return err
}

// eachCached is eachReader of the default files, from the cache: the
// same files in the same order, kept open.
func (j *job) eachCached(fn func(name string, f *reader.File, stats []reader.Stat) error) error {
	c := &j.s.cache
	if err := c.lock(j); err != nil {
		return err
	}
	defer c.unlock()
	if err := c.arrange(j, false); err != nil {
		return err
	}
	for _, e := range c.read {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		err := j.reserve(e.cost, e.what)
		if err == nil {
			var stats []reader.Stat
			stats, err = e.readStats(j.wantGroups)
			j.s.parsing.release(e.cost)
			if err == nil {
				j.cur = e
				err = fn(e.m.name, e.rf, stats)
				j.cur = nil
			}
		}
		if err := j.fatal(e.m, err); err != nil {
			return err
		}
	}
	return nil
}
