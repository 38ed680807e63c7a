package mmash

import (
	"bytes"
	"runtime/debug"
	"slices"
	"sync/atomic"

	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/reader"
)

// metricsPlan is the /metrics text of the files read last, compiled
// (prom.Plan): while the same files keep their layouts, and the stats
// that the Set took as labels (the PID, the info stats) keep their
// values, an answer is their values written into it. It is the
// prom.Source of the plan.
type metricsPlan struct {
	plan  *prom.Plan
	src   prom.Source // the plan itself, boxed once
	files []planFile  // the files, numbered as the plan numbers them
	kept  int         // what the answer keeps, as job.grow counts it

	// What each answer uses again: the buffer the text is made in, piece
	// by piece, and the sizes of the last answers.
	buf          []byte
	size, gzSize int
	scratch      reader.Histogram       // the histogram being written
	coarse       reader.CoarseHistogram // the same, its counts summed
	failed       bool                   // a histogram could not be read: write again
	forks        [2]planFork            // the views of prom.ForkingSource
}

// planFork is a view of a metricsPlan for a goroutine of
// prom.Plan.AppendGzip (prom.ForkingSource): the histograms it reads go
// into its own, and each file's are read under the file's lock (a file
// with two histograms may have them read on both goroutines at once).
type planFork struct {
	p       *metricsPlan
	scratch reader.Histogram
	coarse  reader.CoarseHistogram
	failed  bool
}

// Fork implements prom.ForkingSource.
func (p *metricsPlan) Fork(i int) prom.Source {
	f := &p.forks[i]
	f.p = p
	return f
}

// Value implements prom.Source.
func (f *planFork) Value(file, stat int) reader.Value { return f.p.Value(file, stat) }

// HistogramSummary implements prom.SummarySource.
func (f *planFork) HistogramSummary(file, group int) (uint64, float64, bool) {
	return f.p.HistogramSummary(file, group)
}

// Histogram implements prom.Source, as metricsPlan.Histogram.
func (f *planFork) Histogram(file, group int) *reader.Histogram {
	e := f.p.files[file].e
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.readHistogram(group, &f.scratch); err != nil {
		f.failed = true
	}
	return &f.scratch
}

// ClassicHistogram implements prom.ClassicSource, as
// metricsPlan.ClassicHistogram.
func (f *planFork) ClassicHistogram(file, group, schema int) *reader.CoarseHistogram {
	e := f.p.files[file].e
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.readCoarse(group, schema, &f.coarse); err != nil {
		f.failed = true
	}
	return &f.coarse
}

// planFile is one file of a plan, as it was when the plan was made.
type planFile struct {
	e    *entry
	gen  uint64
	info []infoValue // the values that are labels
	sums []int       // the index of each group's .sum among the values, or -1
	// values is e.values, and counts the index of each group's count
	// (the field that carries its buckets) among them: what the answers
	// read of each file, one pointer nearer (e.values is made again only
	// with a new gen, and a new plan).
	values []reader.Value
	counts []int
}

type infoValue struct {
	i int
	v reader.Value
}

// Value implements prom.Source.
func (p *metricsPlan) Value(file, stat int) reader.Value { return p.files[file].values[stat] }

// HistogramSummary implements prom.SummarySource: a group's count (the
// value of the field that carries its buckets) and its .sum, as read
// with the file's numbers at this request (in one snapshot of the
// group): the plan writes the buckets of a histogram whose count and
// sum have not changed without reading them.
func (p *metricsPlan) HistogramSummary(file, group int) (uint64, float64, bool) {
	f := &p.files[file]
	i, count := f.sums[group], f.values[f.counts[group]]
	if i < 0 || count.Kind() != reader.Uint {
		return 0, 0, false
	}
	return count.Uint(), f.values[i].Float(), true
}

// Histogram implements prom.Source: it reads the histogram now, into
// the one histogram of the plan, rather than each file keep its bucket
// counts (15 KiB for a Timer) between requests. One that cannot be read
// (the file changed under the reader) fails the answer being written,
// which is made again without the file (see cachedMetrics).
func (p *metricsPlan) Histogram(file, group int) *reader.Histogram {
	if err := p.files[file].e.readHistogram(group, &p.scratch); err != nil {
		p.failed = true
	}
	return &p.scratch
}

// ClassicHistogram implements prom.ClassicSource: Histogram with the
// counts summed at the classic schema as they are read, into the one
// CoarseHistogram of the plan (31 sums of a Timer's 1,920 counts at
// schema 0, rather than the counts copied and then summed).
func (p *metricsPlan) ClassicHistogram(file, group, schema int) *reader.CoarseHistogram {
	if err := p.files[file].e.readCoarse(group, schema, &p.coarse); err != nil {
		p.failed = true
	}
	return &p.coarse
}

// valid reports whether the plan is that of the files read.
func (p *metricsPlan) valid(read []*entry) bool {
	if p.plan == nil || len(p.files) != len(read) {
		return false
	}
	for k, e := range read {
		f := &p.files[k]
		if f.e != e || f.gen != e.gen {
			return false
		}
		for _, iv := range f.info {
			if e.values[iv.i] != iv.v {
				return false
			}
		}
	}
	return true
}

// cachedMetrics returns the exposition of the default files in the text
// format, gzip-compressed if gz, from the cache: what metrics returns,
// with the files kept open and the text kept made.
func (j *job) cachedMetrics(gz bool) ([]byte, error) {
	c := &j.s.cache
	if err := c.lock(j); err != nil {
		return nil, err
	}
	defer c.unlock()
	if err := c.arrange(j, true); err != nil {
		return nil, err
	}
	if err := c.readNumbers(j, c.read); err != nil {
		return nil, err
	}
	if err := c.restale(j); err != nil {
		return nil, err
	}
	read := c.read[:0]
	for _, e := range c.read {
		if e.err == nil {
			read = append(read, e) // else left out, as a file that cannot be read
		}
	}
	c.read = read
	p := &c.plan
	for {
		if !p.valid(c.read) {
			if err := p.build(j, c); err != nil {
				return nil, err
			}
		}
		p.failed = false
		body, err := p.answer(j, gz, c)
		if !p.failed || err != nil {
			return body, err
		}
		// A file changed under the reader: made again without it (each
		// time one file fewer: it ends).
		p.plan = nil
		read := c.read[:0]
		for _, e := range c.read {
			if e.err == nil {
				read = append(read, e)
			}
		}
		c.read = read
	}
}

// splitNumbers is the number of files from which readNumbers reads on
// two goroutines: handing work over costs about what reading a few
// files does.
const splitNumbers = 128

// numbersChunk is how many files a goroutine of readNumbers takes at a
// time: small enough that both end together, whatever slows one.
const numbersChunk = 32

// readNumbers reads the numbers of the files read (readValues) and
// finds their histogram groups the first time (loadGroups): a file that
// cannot be read has its e.err set (arrange cleared it). Many files are
// read on two goroutines, this one and the cache's helper (kept from
// one request to the next: starting one would cost allocations and
// wake-ups each request), which take them numbersChunk at a time: each
// file is read by one goroutine, and the reads of a thousand files are
// a few milliseconds, mostly waits on memory that two cores overlap.
func (c *fileCache) readNumbers(j *job, read []*entry) error {
	if len(read) < splitNumbers {
		return readEach(j, read)
	}
	w := &c.numbers
	*w = numbersWork{j: j, read: read}
	c.helper().Start(w)
	err := w.each()
	failed := c.help.Wait()
	if failed != nil {
		panic(failed)
	}
	if err == nil {
		err = w.err
	}
	*w = numbersWork{}
	return err
}

// numbersWork is the files of a readNumbers, which its goroutines take
// numbersChunk at a time.
type numbersWork struct {
	j    *job
	read []*entry
	next atomic.Int64 // the first file not taken
	err  error        // the helper's
}

// Run implements prom.Job: the helper's share.
func (w *numbersWork) Run() { w.err = w.each() }

// each reads chunks of the files until none is left.
func (w *numbersWork) each() error {
	for {
		end := int(w.next.Add(numbersChunk))
		start := end - numbersChunk
		if start >= len(w.read) {
			return nil
		}
		if err := readEach(w.j, w.read[start:min(end, len(w.read))]); err != nil {
			return err
		}
	}
}

// restale opens again the files that readNumbers found changed (stale),
// if any, and then arranges and reads the files again, each looked at
// in arrange as a request other than /metrics does: what arrange would
// have done had it looked at them itself (a file opened again may have
// another layout, or be a totals file, or be gone).
func (c *fileCache) restale(j *job) error {
	stale := false
	for _, e := range c.read {
		if e.stale {
			stale = true
			if err := c.reopen(j, e); err != nil {
				return err
			}
		}
	}
	if !stale {
		return nil
	}
	j.used -= int64(len(c.list) * labelCost) // counted by arrange again
	if err := c.arrange(j, false); err != nil {
		return err
	}
	return c.readNumbers(j, c.read)
}

// helper returns the cache's helper goroutine, started if it is not.
func (c *fileCache) helper() *prom.Helper {
	if c.help == nil {
		c.help = prom.NewHelper()
	}
	return c.help
}

// readEach is readNumbers of some of the files, on one goroutine: a
// file that arrange left to look at (verify) is looked at first, and
// not read if it changed (stale).
func readEach(j *job, read []*entry) error {
	for _, e := range read {
		if err := j.ctx.Err(); err != nil {
			return err
		}
		if e.verify {
			e.verify = false
			if changed, err := e.rf.Update(); err != nil || changed {
				e.stale = true
				continue
			}
		}
		if e.readValues(false) == nil && e.loadGroups() == nil && len(e.coarse) != len(e.groups) {
			j.s.cache.coarse.plans(e)
		}
	}
	return nil
}

// answer writes the plan's text with the values read, gzip-compressed
// if gz (with the cache's helper).
func (p *metricsPlan) answer(j *job, gz bool, c *fileCache) ([]byte, error) {
	if err := j.grow(p.kept); err != nil {
		return nil, err
	}
	// A new buffer for each answer: the clients that share it may still
	// be sending the last one.
	if !gz {
		buf := bytes.NewBuffer(make([]byte, 0, p.size+4096))
		p.buf, _ = p.plan.WriteTo(buf, p.src, p.buf) // a bytes.Buffer: no error
		p.size = buf.Len()
		return buf.Bytes(), j.grow(buf.Cap())
	}
	// The pieces of the text whose values have not changed since the
	// last answer are sent as they were compressed (prom.Plan.AppendGzip).
	body := p.plan.AppendGzipWith(make([]byte, 0, p.gzSize+4096), p.src, c.helper())
	for i := range p.forks {
		f := &p.forks[i]
		p.failed = p.failed || f.failed
		f.failed = false
	}
	p.gzSize = len(body)
	// The answer, and the pieces that the plan keeps, about as large.
	return body, j.grow(2 * cap(body))
}

// freeAfter is the number of files whose plan, made, is worth a
// collection at once (see build).
const freeAfter = 256

// build makes the plan of the files of c.read: each file's stats read
// whole, added to a Set as metrics adds them, and the Set compiled.
func (p *metricsPlan) build(j *job, c *fileCache) error {
	*p = metricsPlan{buf: p.buf, size: p.size, gzSize: p.gzSize, scratch: p.scratch, coarse: p.coarse, forks: p.forks}
	set := prom.Set{Classic: j.s.cfg.classic}
	read := c.read[:0]
	for _, e := range c.read {
		if err := j.reserve(e.cost, e.what); err != nil {
			if err := j.fatal(e.m, err); err != nil {
				return err
			}
			continue
		}
		stats, err := e.rf.Stats()
		j.s.parsing.release(e.cost)
		for k := range e.groups {
			if err == nil {
				// Read for the Set (their windows make the bounds' text),
				// let go after: the answers read them one at a time.
				err = e.readHistogram(k, &e.groups[k].H)
			}
		}
		if err != nil {
			e.fail(err)
			continue
		}
		k := len(read)
		read = append(read, e)
		f := planFile{e: e, gen: e.gen, values: e.values}
		for i := range stats {
			st := &stats[i]
			if st.Value.Kind().Numeric() && (prom.IsInfo(*st) || convention.DefaultField(st.Label) == convention.PID) {
				f.info = append(f.info, infoValue{i, st.Value})
				e.values[i] = st.Value
			}
		}
		for k := range e.groups {
			f.counts = append(f.counts, e.groups[k].Field)
			sum := e.groups[k].Label + ".sum"
			f.sums = append(f.sums, slices.IndexFunc(stats, func(st reader.Stat) bool {
				return st.Label == sum && st.Value.Kind().Numeric()
			}))
		}
		series, families, hist := set.Len(), set.Families(), set.HistogramBytes()
		set.AddFilePlan(k, e.m.name, "", stats, e.groups)
		n := (set.Len()-series)*seriesCost + (set.Families()-families)*familyCost + set.HistogramBytes() - hist
		for _, st := range stats {
			n += 2 * len(st.Label)
		}
		p.kept += n
		if err := j.grow(n); err != nil {
			return err
		}
		p.files = append(p.files, f)
	}
	c.read = read
	p.plan = set.Compile()
	for _, e := range read {
		for k := range e.groups {
			e.groups[k].H.Counts = nil
		}
	}
	if len(read) >= freeAfter {
		// Making the plan of many files made garbage of many times what
		// it keeps (the Set, the files' histograms): given back to the
		// system now, so that mmash's memory between scrapes is what it
		// keeps (some 6 KiB a file), not the peak of the first.
		go debug.FreeOSMemory()
	}
	p.src = p
	j.used -= int64(p.kept) // counted again by the caller, as at every request
	return nil
}
