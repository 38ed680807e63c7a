package clean

import (
	"runtime"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Reading ahead. Most of what judging a file costs is opening and
// reading it: system calls that other goroutines can make while the
// run judges and removes the files before it, on other CPUs. So a
// prefetcher opens and reads the files of a Clean call, a few ahead,
// and the run takes them in order. It only reads: every
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

// prefetchAhead is how many files each reader of a prefetcher reads
// ahead of the run at most: as many descriptors open at once.
const prefetchAhead = 64

// prefetchBatch is how many files go over to the run at once: one
// hand-over for a batch, not for each file.
const prefetchBatch = 16

// prefetcher reads ahead the files of a Clean call, on up to two
// goroutines (lanes) that take batches of paths in turn. Its next
// returns, path by path, what was read, or nil for a path the run
// handles itself (a temporary file, one moved aside, a directory that
// did not open).
type prefetcher struct {
	lanes []*lane
	turn  int           // the lane the next batch comes from
	batch []*prefetched // what next takes from
	quit  chan struct{}
}

// lane is one goroutine of a prefetcher, with what it has read.
type lane struct {
	items chan []*prefetched // batches, one item per path, in order
	done  chan struct{}
}

// startPrefetch starts reading paths ahead; nil (which reads nothing)
// when there is nothing to gain.
func startPrefetch(c *Cleaner, paths []string) *prefetcher {
	if len(paths) < 2 {
		return nil
	}
	n := 1
	if runtime.GOMAXPROCS(0) > 1 && len(paths) > prefetchBatch {
		n = 2
	}
	p := &prefetcher{quit: make(chan struct{})}
	for k := range n {
		l := &lane{items: make(chan []*prefetched, prefetchAhead/prefetchBatch), done: make(chan struct{})}
		p.lanes = append(p.lanes, l)
		go l.run(paths, k, n, p.quit)
	}
	return p
}

// run reads batch k, k+n, k+2n… of paths.
func (l *lane) run(paths []string, k, n int, quit <-chan struct{}) {
	defer close(l.done)
	defer close(l.items)
	var ld loader
	defer ld.snap.Close()
	dirPath, dfd := "", -1
	defer func() {
		if dfd >= 0 {
			closeFD(dfd)
		}
	}()
	for start := k * prefetchBatch; start < len(paths); start += n * prefetchBatch {
		batch := make([]*prefetched, 0, prefetchBatch)
		for _, path := range paths[start:min(start+prefetchBatch, len(paths))] {
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
		}
		select {
		case l.items <- batch:
		case <-quit:
			closeAll(batch)
			return
		}
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
		p.batch = <-p.lanes[p.turn].items
		p.turn = (p.turn + 1) % len(p.lanes)
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
	for _, l := range p.lanes {
		for batch := range l.items {
			closeAll(batch)
		}
		<-l.done
	}
}
