package clean

import (
	"github.com/mmstats/mmstats/pkg/reader"
)

// Reading ahead. Most of what judging a file costs is opening and
// reading it: system calls that another goroutine can make while the
// run judges and removes the files before it, on another CPU. So a
// prefetcher opens and reads the files of a Clean call in order, a few
// ahead, and the run takes them in the same order. It only reads: every
// decision (the lock tried, kill(pid, 0), /proc) and every removal is
// still made by the run, at the moment it would be without it, and a
// file read ahead is acted on only through its identity, checked by the
// removal's protocol as always.

// loader reads the files that one goroutine opens, with the buffers it
// reuses.
type loader struct {
	buf  []byte
	snap reader.Snapshot // reads each file once, sharing layouts
	// The fields of the last shared layout the rules look at
	// (wantedField), by index.
	layout *reader.Layout
	wanted []wanted
}

// prefetched is a file opened and read ahead: t (its descriptor open,
// on the prefetcher's descriptor of its directory), and what reading it
// said: res and ok as run.open and run.writer leave them, and w.
type prefetched struct {
	t   target
	res Result
	w   Writer
	ok  bool
}

// prefetchAhead is how many files the prefetcher reads ahead of the run
// at most: as many descriptors open at once.
const prefetchAhead = 32

// prefetcher reads ahead the files of a Clean call. Its next returns,
// path by path, what it read, or nil for a path the run handles itself
// (a temporary file, one moved aside, a directory that did not open).
type prefetcher struct {
	// Batches of what was read, one item per path, in order (nil: not
	// read): one hand-over for a batch, not for each file.
	items chan []*prefetched
	batch []*prefetched // what next takes from
	quit  chan struct{}
	done  chan struct{}
}

// prefetchBatch is how many files go over to the run at once.
const prefetchBatch = 8

// startPrefetch starts reading paths ahead; nil (which reads nothing)
// when there is nothing to gain.
func startPrefetch(c *Cleaner, paths []string) *prefetcher {
	if len(paths) < 2 {
		return nil
	}
	p := &prefetcher{
		items: make(chan []*prefetched, prefetchAhead/prefetchBatch),
		quit:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go p.run(paths)
	return p
}

func (p *prefetcher) run(paths []string) {
	defer close(p.done)
	defer close(p.items)
	var ld loader
	defer ld.snap.Close()
	dirPath, dfd := "", -1
	defer func() {
		if dfd >= 0 {
			closeFD(dfd)
		}
	}()
	batch := make([]*prefetched, 0, prefetchBatch)
	for _, path := range paths {
		var item *prefetched
		dir, name := splitPath(path)
		if k := KindOf(name); k != Temporary && k != Aside {
			if dir != dirPath {
				if dfd >= 0 {
					closeFD(dfd)
				}
				dirPath = dir
				var err error
				if dfd, err = openDir(dir); err != nil {
					dfd = -1
				}
			}
			if dfd >= 0 {
				item = &prefetched{t: target{dir: dfd, name: name, fd: -1}, res: Result{Path: path, Kind: k}}
				if item.ok = ld.open(&item.t, &item.res); item.ok {
					item.w, item.ok = ld.writer(&item.t, &item.res)
				}
			}
		}
		batch = append(batch, item)
		if len(batch) == prefetchBatch && !p.send(&batch) {
			return
		}
	}
	p.send(&batch)
}

// send hands the batch over, and makes a new one; false if the run
// stopped, the batch's files closed.
func (p *prefetcher) send(batch *[]*prefetched) bool {
	if len(*batch) == 0 {
		return true
	}
	select {
	case p.items <- *batch:
		*batch = make([]*prefetched, 0, prefetchBatch)
		return true
	case <-p.quit:
		closeAll(*batch)
		return false
	}
}

func closeAll(items []*prefetched) {
	for _, item := range items {
		if item != nil {
			item.t.close()
		}
	}
}

// next returns what was read of the next path, or nil.
func (p *prefetcher) next() *prefetched {
	if p == nil {
		return nil
	}
	if len(p.batch) == 0 {
		p.batch = <-p.items
	}
	item := p.batch[0]
	p.batch = p.batch[1:]
	return item
}

// stop ends the prefetcher and closes what it opened and the run did
// not take.
func (p *prefetcher) stop() {
	if p == nil {
		return
	}
	close(p.quit)
	closeAll(p.batch)
	for batch := range p.items {
		closeAll(batch)
	}
	<-p.done
}
