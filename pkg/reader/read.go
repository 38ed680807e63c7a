package reader

import (
	"fmt"
	"github.com/mmstats/mmstats/internal/v1"
	"runtime"
	"sync"
	"time"
)

// Stat is one field's label, type and current value.
type Stat struct {
	Label string // the field's label
	Type  string // the type signature without whitespace
	Value Value  // the current value
	Meta  Meta   // the Go writer's metadata: kind and unit (zero if none)
}

// maxCopyTime bounds how long a string copy may take and still be trusted.
// A sequence word wraps after 6^8 steps, two per write; no writer
// can make 6^8/2 string writes (each takes tens of nanoseconds) in
// this time, so a copy that finished this fast cannot have been fooled by a
// wrapped word.
const maxCopyTime = time.Millisecond

// maxStringWait bounds how long ReadValue keeps trying to take a
// consistent copy of a string that writers keep changing.
const maxStringWait = 100 * time.Millisecond

// fullWaitHook, when set (by tests), is called each time a read spends
// the rest of its wait budget on a group: once per Stats call at most.
var fullWaitHook func()

// minTries is how many tries a read makes before maxStringWait may end
// it: on a loaded machine a single try can outlast the wait.
const minTries = 64

// ReadValue reads the current value of field f from data, which must be
// the same bytes (or mapping) that f was parsed from. For a buffered field
// it reads buffers[write_buffer^1]; for a Go writer's string it follows the
// sequence-word protocol so that it never returns a torn string.
func ReadValue(data []byte, f *Field) (Value, error) {
	if f.End() > len(data) || f.Value < 0 {
		return Value{}, &FormatError{Offset: f.Offset, Label: f.Label, Err: ErrTruncated, Detail: "field runs past the end"}
	}
	if !f.Buffered {
		return readItem(data, f, f.Value), nil
	}
	if f.Seq < 0 {
		return readBuffered(data, f)
	}
	return readSeqString(data, f)
}

// readBuffered reads buffers[write_buffer^1] of a buffered field.
func readBuffered(data []byte, f *Field) (Value, error) {
	wb := loadByte(data, f.WriteBuffer)
	if wb > 1 {
		return Value{}, &FormatError{Offset: f.Offset, Label: f.Label, Err: ErrWriteBuffer, Detail: fmt.Sprintf("0x%02x", wb)}
	}
	return readItem(data, f, f.Value+int(wb^1)*f.Sig.Size), nil
}

// readItem decodes the value item of the buffer that starts at off.
func readItem(data []byte, f *Field, off int) Value {
	var small [8]byte
	var item []byte
	if f.Sig.ItemSize <= len(small) {
		item = small[:f.Sig.ItemSize]
	} else {
		item = make([]byte, f.Sig.ItemSize)
	}
	atomicCopy(item, data, off+f.Sig.Offset)
	return decode(&f.Sig, item)
}

// readSeqString reads a Go writer's double-buffered string.
//
// The writer, holding the field exclusively, does for each write:
//
//	W1 seq = seq+1 (odd)   W2 write buffers[wb]   W3 wb ^= 1   W4 seq = seq+1 (even)
//
// The reader loads s1 = seq, wb, copies buffers[wb^1], then loads s2. A copy
// can only be torn if some write wrote buffers[wb^1] during it, which takes
// a flip (W3) after the reader loaded wb and then the W2 of a later write.
// Counting the seq steps between s1 and s2 (d = s2-s1):
//   - s1 even, d <= 2: at most one whole write ran; it wrote buffers[wb]
//     (the other buffer) or, if its flip came first, the reader copied
//     the buffer that write had finished. Consistent.
//   - s1 odd, d <= 1: the write in flight at s1 writes buffers[wb], or had
//     flipped and finished its buffer before the reader loaded wb; no
//     later write started (its W1 would make d >= 2). Consistent.
//
// Anything else is retried. All loads are atomic word loads, so they are
// ordered on weakly ordered CPUs too. The sequence word wraps after
// 6^8 steps, which maxCopyTime rules out.
func readSeqString(data []byte, f *Field) (Value, error) {
	item := make([]byte, f.Sig.ItemSize)
	// The clock is read only when a try succeeds: if everything since
	// start took less than maxCopyTime, so did the successful try.
	start := time.Now()
	first := start
	for try := 1; ; try++ {
		s1, ok := loadSeq(data, f.Seq)
		if !ok {
			// Not a sequence word after all: read it as a plain buffer.
			return readBuffered(data, f)
		}
		wb := loadByte(data, f.WriteBuffer)
		if wb > 1 {
			return Value{}, &FormatError{Offset: f.Offset, Label: f.Label, Err: ErrWriteBuffer, Detail: fmt.Sprintf("0x%02x", wb)}
		}
		atomicCopy(item, data, f.Value+int(wb^1)*f.Sig.Size+f.Sig.Offset)
		s2, _ := loadSeq(data, f.Seq)
		if consistent(s1, s2) {
			now := time.Now()
			if now.Sub(start) < maxCopyTime {
				return decode(&f.Sig, item), nil
			}
			start = now // descheduled somewhere: the copy is not trusted
		}
		if try%minTries == 0 {
			if time.Since(first) > maxStringWait {
				return Value{}, &FormatError{Offset: f.Offset, Label: f.Label, Err: ErrBusy}
			}
			runtime.Gosched()
			start = time.Now()
		}
	}
}

// consistent applies the acceptance rule of readSeqString.
func consistent(s1, s2 uint32) bool {
	d := (s2 + v1.SeqModulus - s1) % v1.SeqModulus
	if s1%2 == 0 {
		return d <= 2
	}
	return d <= 1
}

func loadSeq(data []byte, off int) (uint32, bool) {
	var w [8]byte
	atomicCopy(w[:], data, off)
	return v1.DecodeSeq(w)
}

// Stats reads every field of layout l from data. The fields of a group
// (see Role) are read as one consistent snapshot.
func Stats(data []byte, l *Layout) ([]Stat, error) {
	stats := make([]Stat, 0, len(l.Fields))
	r := newStatReader(data, func(s *Stat) bool { stats = append(stats, *s); return true })
	defer r.free()
	for i := range l.Fields {
		if err := r.add(&l.Fields[i]); err != nil {
			return stats, err
		}
	}
	return stats, r.end()
}

// ScanStats calls fn with the stat of each field of the v1 file in data,
// in file order, as Stats reads them (groups as one snapshot), without
// holding the layout or the stats: its memory stays bounded whatever the
// number of fields. The *Stat passed to fn is reused; fn copies what it
// keeps. ScanStats stops when fn returns false, or at the first error,
// after the stats before it were passed to fn.
func ScanStats(data []byte, fn func(s *Stat) bool) error {
	r := newStatReader(data, fn)
	defer r.free()
	var err error
	if serr := Scan(data, func(f *Field) bool {
		err = r.add(f)
		return err == nil && !r.stopped
	}); serr != nil {
		return serr
	}
	if err != nil {
		return err
	}
	return r.end()
}

// MaxGroup is the most fields that a reader reads as one snapshot. The
// writer's groups (a histogram's stats) have a few dozen fields; a file
// that claims a longer one (a hostile file) has it read in snapshots of
// MaxGroup fields, each consistent in itself under the group's sequence
// word, so that what a reader holds at once stays bounded.
const MaxGroup = 1024

// statReader reads the stats of fields fed to it in file order and passes
// them to fn, keeping the fields of a group (at most MaxGroup at once)
// until the group ends, to read them as one snapshot.
type statReader struct {
	data    []byte
	fn      func(*Stat) bool
	stopped bool // fn returned false

	inGroup bool
	headIdx int     // the Group of the fields being collected
	head    Field   // their group's head
	group   []Field // the fields collected
	stats   []Stat  // their values, once read
	stat    Stat    // what fn gets for a field alone

	// How long groups stuck in an update may make this reader wait, in
	// all: a writer that died in the middle of one leaves a single group
	// stuck, but a crafted file could hold thousands.
	wait time.Duration
}

// statReaders keeps statReaders, with their buffers, for the next file.
var statReaders = sync.Pool{New: func() any { return new(statReader) }}

func newStatReader(data []byte, fn func(*Stat) bool) *statReader {
	r := statReaders.Get().(*statReader)
	r.data, r.fn, r.wait = data, fn, maxStringWait
	return r
}

// free gives r back to the pool, holding nothing of the file's.
func (r *statReader) free() {
	clear(r.group)
	clear(r.stats)
	*r = statReader{group: r.group[:0], stats: r.stats[:0]}
	statReaders.Put(r)
}

// scanShape reads the stats of the fields of a shape, in file order: the
// fields are there already, parsed, and a group's are read from there
// without being collected.
func (r *statReader) scanShape(sh *shape) error {
	fields := sh.layout.Fields
	groups := sh.idx.groups
	for i := 0; i < len(fields) && !r.stopped; {
		if len(groups) > 0 && int(groups[0].head) == i {
			end := int(groups[0].end)
			groups = groups[1:]
			for k := i; k < end && !r.stopped; k += MaxGroup {
				if err := r.read(&fields[i], fields[k:min(end, k+MaxGroup)]); err != nil {
					return err
				}
			}
			i = end
			continue
		}
		if err := r.add(&fields[i]); err != nil {
			return err
		}
		i++
	}
	return r.end()
}

// add reads f, or keeps it to read with the rest of its group.
func (r *statReader) add(f *Field) error {
	if r.stopped {
		return nil
	}
	if r.inGroup && f.Group == r.headIdx && f.Meta.Role == GroupMember {
		if len(r.group) == MaxGroup {
			if err := r.flush(); err != nil || r.stopped {
				return err
			}
		}
		r.group = append(r.group, *f)
		return nil
	}
	if err := r.end(); err != nil || r.stopped {
		return err
	}
	if f.Meta.Role == GroupHead && f.Group >= 0 {
		r.inGroup, r.headIdx, r.head = true, f.Group, *f
		r.group = append(r.group[:0], *f)
		return nil
	}
	v, err := ReadValue(r.data, f)
	if err != nil {
		return err
	}
	r.stat = Stat{Label: f.Label, Type: f.Sig.Text, Value: v, Meta: f.Meta}
	r.stopped = !r.fn(&r.stat)
	return nil
}

// end reads the group collected, if any.
func (r *statReader) end() error {
	r.inGroup = false
	return r.flush()
}

// flush reads the fields collected as one snapshot and passes them on.
func (r *statReader) flush() error {
	if len(r.group) == 0 || r.stopped {
		clear(r.group)
		r.group = r.group[:0]
		return nil
	}
	err := r.read(&r.head, r.group)
	clear(r.group) // let the strings go
	r.group = r.group[:0]
	return err
}

// read reads fields, of the group that head starts, as one snapshot and
// passes them on.
func (r *statReader) read(head *Field, fields []Field) error {
	var err error
	r.stats, err = readGroup(r.data, head, fields, r.stats[:0], &r.wait)
	if err != nil {
		return err
	}
	for i := range r.stats {
		if r.stopped = !r.fn(&r.stats[i]); r.stopped {
			break
		}
	}
	clear(r.stats)
	return nil
}

// readGroup appends the values of fields, members of the group that head
// starts (head itself first, for the first fields of a group), or one
// field alone, to stats. The writer of a group bumps the sequence word in
// the head's signature to odd, stores every value, then bumps it to
// even; a snapshot is consistent when the word was even and unchanged
// across the reads (and the reads took less than maxCopyTime, for the same
// reason as strings).
func readGroup(data []byte, head *Field, fields []Field, stats []Stat, wait *time.Duration) ([]Stat, error) {
	n := len(stats)
	if len(fields) == 1 {
		f := &fields[0]
		v, err := ReadValue(data, f)
		if err != nil {
			return stats, err
		}
		return append(stats, Stat{Label: f.Label, Type: f.Sig.Text, Value: v, Meta: f.Meta}), nil
	}
	first := time.Now()
	firstSeq, _ := loadSeq(data, head.Seq)
	for try := 1; ; try++ {
		stats = stats[:n]
		start := time.Now()
		s1, ok := loadSeq(data, head.Seq)
		for i := range fields {
			v, err := ReadValue(data, &fields[i])
			if err != nil {
				return stats, err
			}
			stats = append(stats, Stat{Label: fields[i].Label, Type: fields[i].Sig.Text, Value: v, Meta: fields[i].Meta})
		}
		s2, _ := loadSeq(data, head.Seq)
		if !ok || (s1%2 == 0 && s1 == s2 && time.Since(start) < maxCopyTime) {
			*wait -= min(*wait, time.Since(first))
			return stats, nil
		}
		if try%minTries == 0 {
			if waited := time.Since(first); waited > *wait {
				if *wait > 0 && fullWaitHook != nil {
					fullWaitHook()
				}
				*wait = 0
				if s1 == s2 && s1 == firstSeq {
					// The word never moved: a writer stopped (or died)
					// in the middle of an update. Each value is whole.
					return stats, nil
				}
				return stats[:n], &FormatError{Offset: head.Offset, Label: head.Label, Err: ErrBusy}
			}
			runtime.Gosched()
		}
	}
}
