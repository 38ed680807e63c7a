package clean

import (
	"runtime"
	"sync"

	"github.com/mmstats/mmstats/pkg/reader"
)

// Reading ahead. Most of what judging a file costs is opening and
// reading it: system calls that other goroutines can make while the
// run judges and removes the files before it, on other CPUs. So a
// prefetcher opens and reads the files of a Clean call, a few ahead,
// and the run takes them in order.
//
// A file with the sys.flock marker is decided by its lock alone, and
// the prefetcher tries it too (with the system's probe): a live file's
// descriptor is closed there and then, and the run only reports it; a
// stale file's lock stays taken on the descriptor the run removes it
// through, so that it cannot come back to life between the decision
// and the removal, as when the run takes it itself. Every other
// decision (kill(pid, 0), /proc) and every removal is made by the run,
// in order, and a file read ahead is acted on only through its
// identity, checked by the removal's protocol as always. A file that
// the run moved or removed since it was read ahead (a lock held by the
// run itself looks like a live writer's) is opened and judged again;
// and a lock found held by the run itself, for another entry of the
// same file (listed twice, or renamed meanwhile), is told from a
// writer's (heldSet) and tried again by the run in its turn.

// loader reads the files that one goroutine opens, with the buffers it
// reuses.
type loader struct {
	buf  []byte
	snap reader.Snapshot // reads each file once, sharing layouts
	// file is what snap read last, read into again for the next file
	// (nothing left for the collector a file); hint the layout it had,
	// tried first for the next file.
	file reader.File
	hint reader.ShapeHint
	// The fields of the last shared layout the rules look at
	// (wantedField), by index.
	layout *reader.Layout
	wanted []wanted
	idx    []int // the indexes of the wanted fields whose values are read
	vals   []reader.Value
}

// prefetched is a file opened and read ahead: t (its descriptor open,
// on the prefetcher's descriptor of its directory, unless the file was
// found alive by its lock), and what reading it said: res and ok as
// run.open and run.writer leave them, w, and the lock tried.
type prefetched struct {
	dir    string // the path of its directory (splitPath)
	t      target
	res    Result
	w      Writer
	ok     bool
	opened bool // t was opened (and t.id is its identity)
	lock   lockTest
}

// lockTest is the prefetcher's try of a file's exclusive lock: free
// (taken, and kept on the descriptor), or not (the file closed, unless
// ours), or err. ours: the lock was not free, but held by this run on
// another descriptor of the file (in held), read ahead for another entry
// (the same file listed twice, or renamed meanwhile).
type lockTest struct {
	tried, free, ours bool
	err               error
	held              *heldSet
}

// heldSet is the files whose exclusive locks a Clean call holds, taken
// through tryLock, by identity: a lock is noted as it is taken, and
// forgotten as its descriptor is closed (close), both under the mutex
// of the file's shard, so that a lock tried there that is not free is
// held by this process exactly when the set has the file. (A file
// removed is forgotten before it is closed: the run moved it, so that
// what was read of it ahead is judged again anyway.) The shards keep
// the readers ahead and the run, each working on a file of its own,
// from waiting for each other's flock(2) under one mutex; each holds
// the few files of its share read ahead and not yet done with, in a
// slice. The zero value is an empty set.
type heldSet struct {
	shards [heldShards]heldShard
}

// heldShards is the number of shards of a heldSet: a power of two.
const heldShards = 64

// heldShard is a shard of a heldSet, one cache line with its mutex.
type heldShard struct {
	mu    sync.Mutex
	files []heldFile
	_     [64 - 8 - 24]byte
}

// heldFile is a file of a heldShard, with how many of the run's
// descriptors hold its lock.
type heldFile struct {
	id fileID
	n  int
}

// shard returns the shard of the file id.
func (h *heldSet) shard(id fileID) *heldShard {
	return &h.shards[(movedKey(id)*0x9e3779b97f4a7c15)>>(64-6)&(heldShards-1)]
}

// tryLock tries the exclusive lock of fd, the file id; ours reports
// that a lock not free is held by this run, on another descriptor.
func (h *heldSet) tryLock(fd int, id fileID) (free, ours bool, err error) {
	s := h.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch free, err = lockExclusive(fd); {
	case err != nil:
	case free:
		s.add(id)
	default:
		ours = s.index(id) >= 0
	}
	return free, ours, err
}

// close closes fd, whose lock of the file id tryLock took.
func (h *heldSet) close(fd int, id fileID) {
	s := h.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(id)
	closeFD(fd)
}

// forget forgets fd's lock of the file id, which the run removed,
// before fd is closed elsewhere.
func (h *heldSet) forget(id fileID) {
	s := h.shard(id)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(id)
}

// index returns the index of the file id in s.files, or -1.
func (s *heldShard) index(id fileID) int {
	for i := range s.files {
		if s.files[i].id == id {
			return i
		}
	}
	return -1
}

func (s *heldShard) add(id fileID) {
	if i := s.index(id); i >= 0 {
		s.files[i].n++
		return
	}
	s.files = append(s.files, heldFile{id, 1})
}

func (s *heldShard) forget(id fileID) {
	i := s.index(id)
	if i < 0 {
		return
	}
	if s.files[i].n--; s.files[i].n <= 0 {
		last := len(s.files) - 1
		s.files[i] = s.files[last]
		s.files = s.files[:last]
	}
}

// decidedByLock reports whether the rules decide a file whose writer
// is w by its lock alone (see judge.decide).
func decidedByLock(w *Writer) bool {
	return !w.IsTotals && w.HasPID && validPID(w.PID) && w.Flock
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
	held  heldSet
	lanes []*lane
	turn  int    // the lane the next batch comes from
	batch *batch // what next takes from, from lane from
	from  *lane
	next0 int // the next item of batch
	quit  chan struct{}
}

// lane is one goroutine of a prefetcher, with what it has read.
type lane struct {
	items chan *batch // batches, one item per path, in order
	free  chan *batch // batches the run is done with, to fill again
	done  chan struct{}
}

// startPrefetch starts reading entries ahead; nil (which reads nothing)
// when there is nothing to gain.
func startPrefetch(c *Cleaner, entries []Entry) *prefetcher {
	if len(entries) < 2 {
		return nil
	}
	n := 1
	if runtime.GOMAXPROCS(0) > 1 && len(entries) > prefetchBatch {
		n = 2
	}
	// Only the system's probe is tried here: a test's fake is asked by
	// the run, in order.
	lock := c.Probe == nil || takesLock(c.Probe)
	p := &prefetcher{quit: make(chan struct{})}
	for k := range n {
		l := &lane{
			items: make(chan *batch, prefetchAhead/prefetchBatch),
			free:  make(chan *batch, prefetchAhead/prefetchBatch+1),
			done:  make(chan struct{}),
		}
		p.lanes = append(p.lanes, l)
		var held *heldSet
		if lock {
			held = &p.held
		}
		go l.run(entries, k, n, held, p.quit)
	}
	return p
}

// run reads batch k, k+n, k+2n… of entries, and tries the locks of
// files decided by their lock if held is not nil, noting there the
// locks it takes.
func (l *lane) run(entries []Entry, k, n int, held *heldSet, quit <-chan struct{}) {
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
	for start := k * prefetchBatch; start < len(entries); start += n * prefetchBatch {
		end := min(start+prefetchBatch, len(entries))
		var b *batch
		select {
		case b = <-l.free:
			b.ptrs = b.ptrs[:0]
		default:
			b = new(batch)
		}
		for i := range entries[start:end] {
			e := &entries[start+i]
			var item *prefetched
			dir, name := splitPath(e.Path)
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
					item = &b.items[i]
					*item = prefetched{dir: dir, t: target{dir: dfd, name: name, fd: -1, typ: e.Type, listed: e.Listed}, res: Result{Path: e.Path, Kind: k}}
					item.ok = ld.open(&item.t, &item.res)
					item.opened = item.t.fd >= 0
					if item.ok {
						item.w, item.ok = ld.writer(&item.t, &item.res)
					}
					if item.ok && held != nil && decidedByLock(&item.w) {
						free, ours, err := held.tryLock(item.t.fd, item.t.id)
						item.lock = lockTest{tried: true, free: free, ours: ours, err: err, held: held}
						switch {
						case free:
							item.t.held = held
						case err == nil && !ours:
							item.t.close() // alive: nothing more to do with it
						}
					}
				}
			}
			b.ptrs = append(b.ptrs, item)
		}
		select {
		case l.items <- b:
		case <-quit:
			closeAll(b.ptrs)
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

// batch is a batch of files read ahead: ptrs, one for each entry, nil
// for one that was not read, pointing into items. The run hands it back
// to its lane once it is done with them, to be filled again.
type batch struct {
	ptrs  []*prefetched
	items [prefetchBatch]prefetched
}

// next returns what was read of the next entry, or nil. It is valid
// until the next call.
func (p *prefetcher) next() *prefetched {
	if p == nil {
		return nil
	}
	if p.batch == nil || p.next0 == len(p.batch.ptrs) {
		if p.batch != nil {
			select {
			case p.from.free <- p.batch:
			default:
			}
		}
		p.from = p.lanes[p.turn]
		p.batch, p.next0 = <-p.from.items, 0
		p.turn = (p.turn + 1) % len(p.lanes)
	}
	item := p.batch.ptrs[p.next0]
	p.next0++
	return item
}

// stop ends the prefetcher and closes what it opened and the run did
// not take.
func (p *prefetcher) stop() {
	if p == nil {
		return
	}
	close(p.quit)
	if p.batch != nil {
		closeAll(p.batch.ptrs[p.next0:])
	}
	for _, l := range p.lanes {
		for b := range l.items {
			closeAll(b.ptrs)
		}
		<-l.done
	}
}
