package pollstats

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/reader"
)

// poller keeps the files open between intervals and sums their columns.
// A file is parsed once, when it is first seen; each interval then costs
// one stat per directory (see sources) and one load per value.
type poller struct {
	cols     []column
	filters  []filter
	absolute bool
	src      *sources
	log      *logger

	files map[string]*tracked // by path; the ID tells a replaced file
	gen   int                 // scan generation, to find the files gone
	tick  int                 // poll count, to update each file once a poll

	// The files by what each interval does with them, rebuilt when dirty.
	active  []*tracked // read and summed
	refresh []*tracked // lacking a column or a filter match: updated first
	failed  []*tracked // cannot be read: opened again
	dirty   bool

	totals, scratch []total
}

// startPoller finds and opens the files, resolves the fields against
// their labels, and reads the first values. Its errors are exit errors:
// 1 when no file can be read, 2 for unknown and string fields.
func startPoller(o *Options, src *sources, log *logger) (*poller, error) {
	p := &poller{filters: parseFilters(o.Filters), absolute: o.Absolute, src: src, log: log, files: map[string]*tracked{}}
	p.src.scan(time.Now(), p.warnErr)
	p.gen++
	p.src.paths(func(path string, id fileID) {
		if p.files[path] != nil {
			return // named twice
		}
		t := &tracked{path: path, id: id, seen: p.gen}
		p.files[path] = t
		p.open(t)
	}, p.warnErr)
	for _, path := range src.missing() {
		p.log.warnf("%s: no such file", cli.Quote(path))
	}
	// The labels that the fields may mean, and whether a file has each
	// (as a string?). Only those are kept: a file of millions of labels
	// costs no memory here.
	wanted := labelSet{}
	for _, f := range o.Fields {
		for _, l := range joins(o.Prefix, f) {
			wanted[l] = false
		}
	}
	labels := labelSet{}
	var failed []string
	for _, t := range p.files {
		if t.f == nil {
			failed = append(failed, t.err)
			continue
		}
		for l := range wanted { // errors show when the file is read
			if _, f, ok := t.f.Lookup(l); ok {
				labels[l] = labels[l] || reader.KindOf(f.Sig.Code) == reader.String
			}
		}
	}
	if len(p.files) == 0 {
		return nil, &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("no stats files match %s", strings.Join(src.names, " "))}
	}
	if len(failed) == len(p.files) {
		sort.Strings(failed)
		return nil, &cli.ExitError{Code: cli.ExitFailure, Err: errors.New("cannot read any stats file:\n  " + strings.Join(failed, "\n  "))}
	}
	cols, err := resolveColumns(o.Fields, o.Prefix, labels, p.allLabels)
	if err != nil {
		return nil, err
	}
	p.cols = cols
	p.totals, p.scratch = make([]total, len(cols)), make([]total, len(cols))
	for _, t := range p.files {
		if t.f != nil {
			t.bind(p.cols, p.filters, p.log)
		}
	}
	p.rebuild()
	p.log.infof("reading %d files, summing %d", len(p.files), len(p.active))
	return p, nil
}

// maxSuggested bounds the labels that an unknown field is compared with,
// for its suggestions: a hostile file can have millions.
const maxSuggested = 100000

// allLabels returns the labels of the files, up to maxSuggested, to
// suggest the closest to an unknown field.
func (p *poller) allLabels() []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range p.files {
		if t.f == nil {
			continue
		}
		t.f.ScanFields(func(_ int, f *reader.Field) bool {
			if !seen[f.Label] {
				seen[f.Label] = true
				out = append(out, f.Label)
			}
			return len(out) < maxSuggested
		})
		if len(out) >= maxSuggested {
			break
		}
	}
	return out
}

// poll reads every file once and returns the columns' totals, valid
// until the next poll.
func (p *poller) poll(now time.Time) []total {
	if p.src.scan(now, p.warnErr) {
		p.reconcile()
	}
	if p.dirty {
		p.rebuild()
	}
	for _, t := range p.failed {
		if p.open(t) {
			t.idx = nil // counted again from now, as a new file
			t.bind(p.cols, p.filters, p.log)
			p.dirty = true
		}
	}
	p.tick++
	for _, t := range p.refresh {
		p.update(t)
	}
	if p.dirty {
		p.rebuild()
	}
	for c := range p.totals {
		p.totals[c] = total{}
	}
	for _, t := range p.active {
		if t.updated != p.tick && !p.update(t) {
			continue
		}
		if err := t.read(p.totals, p.scratch, p.absolute); err != nil {
			p.fail(t, err)
		}
	}
	if p.dirty {
		p.rebuild()
	}
	return p.totals
}

// reconcile brings the files in line with what the sources found: new
// paths are opened, paths gone are closed, and a path whose ID changed
// is read as a new file.
func (p *poller) reconcile() {
	p.gen++
	p.src.paths(func(path string, id fileID) {
		t := p.files[path]
		switch {
		case t == nil:
			t = &tracked{path: path, id: id}
			p.files[path] = t
			p.log.infof("added %s", cli.Quote(path))
		case t.id != id:
			t.close()
			*t = tracked{path: path, id: id}
			p.log.infof("replaced %s", cli.Quote(path))
		default:
			t.seen = p.gen
			return
		}
		t.seen = p.gen
		if p.open(t) {
			t.bind(p.cols, p.filters, p.log)
		}
		p.dirty = true
	}, p.warnErr)
	for path, t := range p.files {
		if t.seen != p.gen {
			t.close()
			delete(p.files, path)
			p.log.infof("removed %s", cli.Quote(path))
			p.dirty = true
		}
	}
}

// open opens t's file and reports whether it could.
func (p *poller) open(t *tracked) bool {
	f, err := reader.Open(t.path)
	if err != nil {
		p.fail(t, err)
		return false
	}
	if t.err != "" {
		p.log.warnf("%s: readable again", cli.Quote(t.path))
	}
	t.f, t.err = f, ""
	if f.IsCopy() {
		p.log.warnf("%s: out of memory mappings, reading a copy of it every interval", cli.Quote(t.path))
	}
	return true
}

// update brings t's file up to date (reader.File.Update: fields
// appended, the file grown by its writer, a copy read again) and reports
// whether t is read this interval. A file that another took the place of
// is read as a new file.
func (p *poller) update(t *tracked) bool {
	t.updated = p.tick
	changed, err := t.f.Update()
	switch {
	case errors.Is(err, reader.ErrReplaced):
		t.close()
		id, _ := lstatID(t.path) // what the next scan will find
		*t = tracked{path: t.path, id: id, seen: t.seen, updated: p.tick}
		p.log.infof("replaced %s", cli.Quote(t.path))
		if p.open(t) {
			t.bind(p.cols, p.filters, p.log)
		}
		p.dirty = true
		return false
	case err != nil:
		p.fail(t, err)
		return false
	case changed:
		t.bind(p.cols, p.filters, p.log)
		p.dirty = true
	}
	return t.included
}

// fail closes t's file after err, warning once per distinct error.
func (p *poller) fail(t *tracked, err error) {
	reason := err.Error()
	var pe *reader.PathError
	if errors.As(err, &pe) && pe.Path == t.path {
		reason = pe.Err.Error()
	}
	msg := cli.Quote(t.path) + ": " + reason
	if msg != t.err {
		p.log.warnf("%s", msg)
	}
	if t.f != nil {
		t.close()
		p.dirty = true
	}
	t.err = msg
}

// warnErr reports a problem with a source.
func (p *poller) warnErr(err error) { p.log.warnf("%v", err) }

// rebuild sorts the files into the lists each interval goes through.
func (p *poller) rebuild() {
	p.active, p.refresh, p.failed = p.active[:0], p.refresh[:0], p.failed[:0]
	for _, t := range p.files {
		switch {
		case t.f == nil:
			p.failed = append(p.failed, t)
		case t.included:
			p.active = append(p.active, t)
		}
		if t.f != nil && (t.partial || !t.included) {
			p.refresh = append(p.refresh, t)
		}
	}
	p.dirty = false
}

// close closes every file.
func (p *poller) close() {
	for _, t := range p.files {
		t.close()
	}
}
