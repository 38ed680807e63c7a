package reader

import (
	"encoding/binary"
	"math"
	"runtime/debug"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
)

// A NumberPlan is ReadNumbers decided once for a layout: for each
// numeric field, how its value is loaded (an aligned 8-byte item with
// one atomic load, another through the general read), and for each
// group where its sequence word is. A server that reads the numbers of
// the same files at every request (mmash) makes one plan for the files
// that share a layout, and then reads each of them at the cost of its
// loads: no field looked at, no length checked a field (one check a
// file), no Stat made of a group's members.
//
// A plan reads only the files of its layout: Read of a file whose
// Layout is another (its own, or one its writer changed since) is
// ReadNumbers, as is Read of a file that is not mapped, that a Snapshot
// reads, or that is shorter than the plan's fields reach.
type NumberPlan struct {
	layout *Layout
	hi     int     // the bytes the fields reach, sequence words included
	ops    []numOp // the fields in file order, strings left out
}

// numOp is how a NumberPlan reads one field, or a group.
type numOp struct {
	kind uint8
	i    int32 // the field's index (of the head, for a group)
	off  int32 // an item's offset; a group's sequence word
	n    int32 // a group: the ops of its members, after it
	end  int32 // a group: the index past its last member
}

const (
	opWord   uint8 = iota // an 8-byte item at a multiple of 8: one atomic load, decoded
	opUint                // the same, a native-order uint64 ('Q')
	opInt                 // a native-order int64 ('q')
	opFloat               // a native-order float64 ('d')
	opItem                // another item of a field that is not buffered (readItem)
	opValue               // a buffered number: ReadValue
	opGroup               // a group, then its members' ops
	opGroupR              // a group read by readGroup whatever the try: a member is a string or buffered
)

// NewNumberPlan returns the plan of f's layout (Layout), or nil when f
// has none or a field of it cannot be read (ReadNumbers says why).
func NewNumberPlan(f *File) *NumberPlan {
	l := f.Layout()
	if l == nil {
		return nil
	}
	p := &NumberPlan{layout: l}
	reach := func(end int) { p.hi = max(p.hi, end) }
	fields := l.Fields
	groups := f.ix().groups
	item := func(fl *Field, i int) (numOp, bool) {
		if fl.Value < 0 || fl.End() < fl.Value {
			return numOp{}, false
		}
		reach(fl.End())
		switch {
		case fl.Buffered:
			if fl.Seq >= 0 {
				reach(fl.Seq + 8)
			}
			reach(fl.WriteBuffer + 1)
			return numOp{kind: opValue, i: int32(i)}, true
		case fl.Sig.ItemSize == 8 && (fl.Value+fl.Sig.Offset)%8 == 0 && fl.Value+fl.Sig.Offset+8 <= fl.End():
			op := numOp{kind: opWord, i: int32(i), off: int32(fl.Value + fl.Sig.Offset)}
			if v1.NativeOrder(fl.Sig.Order) {
				switch fl.Sig.Code {
				case 'Q':
					op.kind = opUint
				case 'q':
					op.kind = opInt
				case 'd':
					op.kind = opFloat
				}
			}
			return op, true
		}
		return numOp{kind: opItem, i: int32(i)}, true
	}
	for i := 0; i < len(fields); {
		for len(groups) > 0 && int(groups[0].head) < i {
			groups = groups[1:]
		}
		if len(groups) > 0 && int(groups[0].head) == i && int(groups[0].end) > i+1 {
			end := min(int(groups[0].end), len(fields))
			head := &fields[i]
			if head.Seq < 0 || end-i > MaxGroup {
				return nil // as ReadNumbers has it: not worth a plan
			}
			reach(head.Seq + 8)
			at := len(p.ops)
			p.ops = append(p.ops, numOp{kind: opGroup, i: int32(i), off: int32(head.Seq), end: int32(end)})
			for k := i; k < end; k++ {
				op, ok := item(&fields[k], k)
				if !ok {
					return nil
				}
				if op.kind == opValue || KindOf(fields[k].Sig.Code) == String {
					p.ops[at].kind = opGroupR
				}
				p.ops = append(p.ops, op)
			}
			p.ops[at].n = int32(len(p.ops) - at - 1)
			i = end
			continue
		}
		fl := &fields[i]
		if KindOf(fl.Sig.Code) != String {
			op, ok := item(fl, i)
			if !ok {
				return nil
			}
			p.ops = append(p.ops, op)
		}
		i++
	}
	return p
}

// Layout returns the layout p reads.
func (p *NumberPlan) Layout() *Layout { return p.layout }

// Read is f.ReadNumbers(dst): the same values, a group's read as one
// snapshot under its sequence word (with ReadNumbers' waits when the
// writer is in the middle of it), ErrFault when the mapping shrank.
func (p *NumberPlan) Read(f *File, dst []Value) (err error) {
	if p == nil || f.data == nil || !f.mapped || f.snapOn() || f.Layout() != p.layout ||
		len(f.data) < p.hi || len(dst) < len(p.layout.Fields) {
		return f.ReadNumbers(dst)
	}
	defer f.wrap(&err)
	defer catchFault(&err, debug.SetPanicOnFault(true))
	data, fields := f.data, p.layout.Fields
	var wait time.Duration = maxStringWait
	for k := 0; k < len(p.ops); k++ {
		op := &p.ops[k]
		switch op.kind {
		case opGroup, opGroupR:
			members := p.ops[k+1 : k+1+int(op.n)]
			k += int(op.n)
			if op.kind == opGroup && groupOnce(data, op, members, fields, dst) {
				continue
			}
			if err := readGroupSlow(data, fields, int(op.i), int(op.end), dst, &wait); err != nil {
				return err
			}
		default:
			if dst[op.i], err = p.load(data, op, fields); err != nil {
				return err
			}
		}
	}
	return nil
}

// load reads the field of an op that is not a group's.
func (p *NumberPlan) load(data []byte, op *numOp, fields []Field) (Value, error) {
	if op.kind == opValue {
		return ReadValue(data, &fields[op.i])
	}
	return loadItem(data, op, fields), nil
}

// loadItem reads the item of an op that is not a group's nor opValue,
// as readItem does.
func loadItem(data []byte, op *numOp, fields []Field) Value {
	if op.kind == opItem {
		fl := &fields[op.i]
		return readItem(data, fl, fl.Value)
	}
	var w [1]uint64
	loadWords(w[:], data, int(op.off))
	switch op.kind {
	case opUint:
		return UintValue(w[0])
	case opInt:
		return IntValue(int64(w[0]))
	case opFloat:
		return FloatValue(math.Float64frombits(w[0]))
	}
	var item [8]byte
	binary.NativeEndian.PutUint64(item[:], w[0])
	return decode(&fields[op.i].Sig, item[:])
}

// groupOnce makes one try at a group's members, as readGroup's first:
// it reports false when the sequence word says that the writer was in
// the middle of an update (or the try took too long to trust), and the
// caller then reads the group as ReadNumbers does.
func groupOnce(data []byte, g *numOp, members []numOp, fields []Field, dst []Value) bool {
	start := time.Now()
	s1, ok := seqAt(data, int(g.off))
	for m := range members {
		op := &members[m]
		dst[op.i] = loadItem(data, op, fields)
	}
	s2, _ := seqAt(data, int(g.off))
	return !ok || s1%2 == 0 && s1 == s2 && time.Since(start) < maxCopyTime
}

// seqAt is loadSeq of an aligned sequence word, with one load.
func seqAt(data []byte, off int) (uint32, bool) {
	var w [1]uint64
	loadWords(w[:], data, off)
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], w[0])
	return v1.DecodeSeq(b)
}

// readGroupSlow reads the group of fields [head, end) into dst as
// ReadNumbers does.
func readGroupSlow(data []byte, fields []Field, head, end int, dst []Value, wait *time.Duration) error {
	r := newStatReader(data, nil)
	defer r.free()
	r.wait = *wait
	for k := head; k < end; k += MaxGroup {
		n := min(end, k+MaxGroup)
		var err error
		if r.stats, err = readGroup(data, &fields[head], fields[k:n], r.stats[:0], &r.wait); err != nil {
			return err
		}
		for j := range r.stats {
			dst[k+j] = r.stats[j].Value
		}
		clear(r.stats)
	}
	*wait = r.wait
	return nil
}
