package pollstats

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/reader"
)

// The mapping helper. The kernel's limits are per process: past its own
// mappings (vm.max_map_count) pollstats reads its cold files with a
// pread each, and past its descriptors it opens, reads and closes them
// every interval (cold.go), ten times what a mapped file costs. A second
// process has its own mappings: pollstats starts one helper, itself
// again in a hidden mode (MapperMain), which maps the cold files read as
// words (quickable) and, each interval, on pollstats' signal, copies
// their words into a region of memory both share, while pollstats runs
// its hot loop over the files it maps. pollstats then reads each such
// file's words from the region where it would have read them with a
// pread, and everything else stays as it was: the full looks at a file
// (look) and every decision are pollstats'; the helper only loads.
//
// The protocol, over a stream socket: pollstats sends commands, each a
// native-endian uint32 length, then an op byte and its arguments:
//
//	'S' set:   id u32, end u32, n u32, n offsets u32 (the words of a
//	           wordRead; end: the layout's end marker, checked with byte 0)
//	'A' add:   slot u32, set u32, phase u8, inode u64, path
//	'D' drop:  slot u32
//	'R' round: tick u32
//
// and the helper answers each round with its tick (u32) once the
// region holds every slot's words. The region is, per slot, stride
// words: a header (status, the check bytes, the round's tick) and the
// words of its set, loaded with one atomic load each (reader.Words).
// A slot due its full look at the round's tick (the phase given) has its
// check bytes loaded too: its first byte and the two bytes of its end
// marker, what lookWords reads with a pread.
//
// The words are those of a wordRead: 8-byte numbers that are no group's
// members (reader.Field.WordAt refuses a field under a sequence word,
// and a buffered one), each loaded with one atomic load, as the hot
// loop loads a mapped file's; a file whose columns need more (a
// histogram, a group) is not quickable, and stays on the cold path. The
// helper is started at the first interval that has such files, past
// the start's peak of memory.
//
// A slot's status says whether the helper maps its file (ok), could
// not (gone: not opened or not a regular file; another: another inode
// than pollstats found; full: no mapping left), or could not load its
// words this round (short: the file shrank under the mapping). pollstats
// hands a file the helper cannot take back to the cold path. A helper
// that cannot start, fails to answer within mapperTimeout, or dies
// leaves every file on the cold path, with one warning; it exits when
// its socket closes, and on Linux when pollstats dies (PR_SET_PDEATHSIG).

// The slots' statuses, in a header's low byte; mapChecked is set with
// mapOK when the check bytes were loaded.
const (
	mapNone    = iota // never written
	mapOK             // the words are this round's
	mapShort          // the words could not be loaded: the file shrank
	mapGone           // the file could not be opened, or is not a regular file
	mapAnother        // the path names another inode
	mapFull           // the helper has no mapping left
	mapChecked = 0x80
)

// mapperTimeout is how long pollstats waits for the helper's answer to a
// round, or to take a command, before it gives up on it: a live helper
// answers in milliseconds. Mapping the files it is given takes longer:
// mapperPerAdd more per file added since the last round.
var mapperTimeout = 2 * time.Second

const mapperPerAdd = 250 * time.Microsecond

// mapperSlots is how many files a helper maps at most: its budget of
// mappings at the default vm.max_map_count (the region's pages are
// only made as the slots are used).
const mapperSlots = 1 << 16

// mapperConn is pollstats' end of a helper: its socket and the region.
type mapperConn interface {
	send(b []byte, timeout time.Duration) error
	recv(b []byte, timeout time.Duration) error
	region() []uint64 // read-only
	stop()            // ends the helper (and waits for it)
}

// startMapper starts a helper for a region of slots slots of stride
// words (nil: no helper, as in the package's tests unless they set it).
var startMapper func(slots, stride int) (mapperConn, error) = startMapperProcess

// mapperCount, when set (tests), counts the files' words read from a
// helper's region, as pollers stop their helpers.
var mapperCount *atomic.Int64

// errMapperExited says that the helper's socket closed.
var errMapperExited = errors.New("it exited")

// errNoMapper is startMapperProcess' error where there is no helper (not
// Linux): no warning is given.
var errNoMapper = errors.New("no mapping helper on this system")

// mapper is pollstats' side of the helper.
type mapper struct {
	state  uint8 // mapperOff, mapperOn, mapperDead
	conn   mapperConn
	region []uint64 // conn's
	stride int
	slots  []mapSlot // by slot: the file it holds (t nil: free)
	free   []uint32
	sets   map[mapSetKey]uint32
	setOf  []mapSetKey // by set
	out    []byte      // commands to send
	adds   int         // files added since the last round
	tick   uint32      // of the round under way
	wait   bool        // a round is under way (its answer not read)
	full   bool        // the helper said it has no mapping left: no more adds until a mapped file's slot is dropped
	looked bool        // not started: no cold file for it since the last rebuild
	// refused are the files the helper could not take, by the inode
	// they had: left on the cold path while they are that file.
	refused map[*tracked]fileID
	served  int    // words of a file read from the region (tests)
	seen    []bool // per slot (mapSync's scratch)
}

const (
	mapperOff  = iota // not started
	mapperOn          // running
	mapperDead        // could not start, or failed: the cold path for all
)

// mapSlot is a slot's file, as added: its set and phase.
type mapSlot struct {
	t     *tracked
	set   uint32
	phase uint8
}

// mapSetKey is what a set of words is made of: a cold file's wordRead
// and the layout whose end marker is checked.
type mapSetKey struct {
	read   *wordRead
	layout *reader.Layout
}

// slotOf returns the helper's slot of t, and whether it has one.
func slotOf(t *tracked) (int, bool) { return int(-t.wfd) - 1, t.wfd < 0 }

// mapCandidate reports whether t can be read through the helper.
func (p *poller) mapCandidate(t *tracked) bool {
	m := &p.mapper
	return t.cold && quickable(t) && t.layout != nil && len(t.fast.load) < m.stride &&
		(m.refused == nil || m.refused[t] != t.id)
}

// mapSync brings the helper's slots in line with p.active (after
// rebuild): slots of files no longer read through it dropped, cold
// files given slots. With start, the helper is started first if there
// is none yet: at the first interval (mapBegin), not at start, when
// pollstats still holds the garbage of parsing every file (the peak of
// its memory, which the helper's is then not added to).
func (p *poller) mapSync(start bool) {
	m := &p.mapper
	if m.state == mapperDead || startMapper == nil {
		return
	}
	if m.state == mapperOff && !start {
		m.looked = false // the files changed: worth another look
		return
	}
	for t, id := range m.refused {
		if t.id != id || !t.cold {
			delete(m.refused, t)
		}
	}
	if m.state == mapperOff {
		stride := 1 + len(p.cols)
		want := 0
		for _, t := range p.active {
			if t.cold && quickable(t) && t.layout != nil {
				stride = max(stride, 1+len(t.fast.load))
				want++
			}
		}
		if want == 0 {
			m.looked = true
			return
		}
		conn, err := startMapper(mapperSlots, stride)
		if err != nil {
			m.state = mapperDead
			if err != errNoMapper {
				p.log.warnf("cannot start the mapping helper (%v): the files past the mappings are read as before", err)
			}
			return
		}
		m.conn, m.region, m.stride, m.state = conn, conn.region(), stride, mapperOn
		m.sets = map[mapSetKey]uint32{}
		m.slots = make([]mapSlot, 0, min(want, mapperSlots))
		defer func() { p.log.infof("mapping %d files in a helper process", m.used()) }()
	}
	// A slot is kept for a file of p.active that is still what it was
	// when added.
	if cap(m.seen) < len(m.slots) {
		m.seen = make([]bool, len(m.slots), cap(m.slots))
	}
	m.seen = m.seen[:len(m.slots)]
	clear(m.seen)
	for _, t := range p.active {
		if i, ok := slotOf(t); ok && i < len(m.slots) && m.slots[i].t == t {
			m.seen[i] = true
		}
	}
	for i := range m.slots {
		s := &m.slots[i]
		if s.t != nil && (!m.seen[i] || !p.mapCandidate(s.t) || s.phase != s.t.phase ||
			m.setOf[s.set] != (mapSetKey{s.t.fast, s.t.layout})) {
			m.drop(i)
			m.full = false // the helper unmaps it: room for another
		}
	}
	for _, t := range p.active {
		if m.full {
			break
		}
		if _, ok := slotOf(t); ok || !p.mapCandidate(t) {
			continue
		}
		if t.wfd > 0 { // read from the region from now on
			closeWords(int(t.wfd) - 1)
			t.wfd = 0
			p.fds--
		}
		if !m.add(t) {
			break
		}
		if len(m.out) >= mapperChunk {
			p.mapFlush()
		}
	}
	p.mapFlush()
}

// mapperChunk is how many bytes of commands are sent at once, at most
// (a little more): the start's adds are not all made in memory first.
const mapperChunk = 1 << 16

// used returns how many slots hold a file.
func (m *mapper) used() int { return len(m.slots) - len(m.free) }

// add gives t a slot, and reports whether there was one.
func (m *mapper) add(t *tracked) bool {
	key := mapSetKey{t.fast, t.layout}
	set, ok := m.sets[key]
	if !ok {
		set = uint32(len(m.setOf))
		m.sets[key] = set
		m.setOf = append(m.setOf, key)
		m.cmd('S', 12+4*len(key.read.load))
		m.out = binary.NativeEndian.AppendUint32(m.out, set)
		m.out = binary.NativeEndian.AppendUint32(m.out, uint32(key.layout.End))
		m.out = binary.NativeEndian.AppendUint32(m.out, uint32(len(key.read.load)))
		for _, off := range key.read.load {
			m.out = binary.NativeEndian.AppendUint32(m.out, uint32(off))
		}
	}
	var i int
	switch {
	case len(m.free) > 0:
		i = int(m.free[len(m.free)-1])
		m.free = m.free[:len(m.free)-1]
	case len(m.slots) < mapperSlots:
		i = len(m.slots)
		m.slots = append(m.slots, mapSlot{})
	default:
		return false
	}
	m.slots[i] = mapSlot{t: t, set: set, phase: t.phase}
	t.wfd = -int32(i) - 1
	m.addCmd(i, set, t.phase, uint64(t.id), t.path)
	return true
}

// addCmd makes the command that adds the file at path, of inode ino, as
// slot i.
func (m *mapper) addCmd(i int, set uint32, phase uint8, ino uint64, path string) {
	m.cmd('A', 17+len(path))
	m.out = binary.NativeEndian.AppendUint32(m.out, uint32(i))
	m.out = binary.NativeEndian.AppendUint32(m.out, set)
	m.out = append(m.out, phase)
	m.out = binary.NativeEndian.AppendUint64(m.out, ino)
	m.out = append(m.out, path...)
	m.adds++
}

// drop frees slot i: its file, if it still has it, goes back to the
// cold path.
func (m *mapper) drop(i int) {
	s := &m.slots[i]
	if j, ok := slotOf(s.t); ok && j == i {
		s.t.wfd = 0
	}
	*s = mapSlot{}
	m.free = append(m.free, uint32(i))
	m.cmd('D', 4)
	m.out = binary.NativeEndian.AppendUint32(m.out, uint32(i))
}

// cmd starts a command of op with n bytes of arguments.
func (m *mapper) cmd(op byte, n int) {
	m.out = binary.NativeEndian.AppendUint32(m.out, uint32(1+n))
	m.out = append(m.out, op)
}

// mapFlush sends the commands made.
func (p *poller) mapFlush() {
	m := &p.mapper
	if m.state != mapperOn || len(m.out) == 0 {
		return
	}
	err := m.conn.send(m.out, mapperTimeout)
	m.out = m.out[:0]
	if err != nil {
		p.mapFailed(err)
	}
}

// mapBegin starts a round: the helper copies the words of every slot
// while pollstats reads its own files. Called once p.tick is the
// interval's; the round is waited for where a slot is first read, or at
// the end of the interval.
func (p *poller) mapBegin() {
	m := &p.mapper
	if m.state == mapperOff {
		if p.warnedCold && !m.looked {
			p.mapSync(true) // its first round is the next interval's: it maps the files meanwhile
		}
		return
	}
	if m.state != mapperOn || m.used() == 0 {
		return
	}
	m.tick = uint32(p.tick)
	m.cmd('R', 4)
	m.out = binary.NativeEndian.AppendUint32(m.out, m.tick)
	p.mapFlush()
	m.wait = m.state == mapperOn
}

// mapWait waits for the round under way, if any.
func (p *poller) mapWait() {
	m := &p.mapper
	if !m.wait {
		return
	}
	m.wait = false
	adds := m.adds
	m.adds = 0
	var b [4]byte
	for {
		if err := m.conn.recv(b[:], mapperTimeout+time.Duration(adds)*mapperPerAdd); err != nil {
			p.mapFailed(err)
			return
		}
		if got := binary.NativeEndian.Uint32(b[:]); got == m.tick {
			break
		}
		// an earlier round's answer (never left unread; but harmless)
	}
	if adds >= 1000 {
		// The garbage of the adds (the slots made, the commands) is
		// given back, as the start's is (settleHeap).
		settleHeap(adds)
	}
}

// mapFailed ends the helper after err: every file goes back to the cold
// path.
func (p *poller) mapFailed(err error) {
	m := &p.mapper
	if m.state != mapperOn {
		return
	}
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		err = errMapperExited
	}
	p.log.warnf("the mapping helper failed (%v): the %d files it read are read as before", err, m.used())
	p.mapStop()
	m.state = mapperDead
}

// mapStop ends the helper, and gives its files back to the cold path.
func (p *poller) mapStop() {
	m := &p.mapper
	for i, s := range m.slots {
		if s.t == nil {
			continue
		}
		if j, ok := slotOf(s.t); ok && j == i {
			s.t.wfd = 0
		}
	}
	m.slots, m.free, m.out, m.wait = nil, nil, nil, false
	if mapperCount != nil {
		mapperCount.Add(int64(m.served))
	}
	m.served = 0
	if m.conn != nil {
		m.conn.stop()
		m.conn, m.region = nil, nil
	}
	if m.state == mapperOn {
		m.state = mapperOff
	}
}

// mapped reads cold file t's words from the region into dst, as
// readWords reads them (with check, lookWords), and reports whether it
// did, and whether they were there to read (served): if not, t has no
// slot any more, or its slot is not this round's, and readWords reads
// the file itself. A file the helper could not take is given back to
// the cold path; one it could not load this round (it shrank) too,
// which then finds what became of it.
func (p *poller) mapped(t *tracked, dst []uint64, check bool) (ok, served bool) {
	m := &p.mapper
	p.mapWait()
	i, _ := slotOf(t)
	if m.state != mapperOn || i >= len(m.slots) || m.slots[i].t != t {
		t.wfd = 0
		return false, false
	}
	if m.tick != uint32(p.tick) {
		return false, false // no round this interval
	}
	s := &m.slots[i]
	if m.setOf[s.set] != (mapSetKey{t.fast, t.layout}) || s.phase != t.phase {
		return false, false // bound again since: mapSync gives it another slot
	}
	r := m.region
	at := i * m.stride
	h := r[at]
	if uint32(h>>32) != m.tick {
		return false, false
	}
	if st := uint8(h) &^ mapChecked; st != mapOK {
		if m.refused == nil {
			m.refused = map[*tracked]fileID{}
		}
		m.refused[t] = t.id
		m.drop(i)
		m.full = m.full || st == mapFull // no more adds until a mapped file's slot is dropped
		return false, false
	}
	if check {
		if uint8(h)&mapChecked == 0 {
			return false, false
		}
		if uint8(h>>8) == v1.Superseded || uint8(h>>16) != 0 || uint8(h>>24) != 0 {
			return false, true
		}
	}
	copy(dst[:len(t.fast.load)], r[at+1:])
	m.served++
	return true, true
}
