package pollstats

// The mapping helper's side (mapper.go): the files it maps, the
// commands it takes, the rounds it copies.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/mmstats/mmstats/pkg/reader"
)

// mapHelper is the helper: the files it maps, by slot, in chunks of
// chunkSlots slots (made as the slots are used, never copied: the
// helper's memory is the slots it holds).
type mapHelper struct {
	region []uint64
	stride int
	chunks []*helperChunk
	sets   []helperSet
	dirs   dirFDs
	words  []byte // a command (scratch)
	added  int    // files added since the last round
	settle func() // gives the heap's garbage back to the system
}

const chunkSlots = 1 << 12

// helperChunk is chunkSlots slots: each one's mapping (the zero Words:
// none), apart from the rest, as reader.LoadSame takes them.
type helperChunk struct {
	words [chunkSlots]reader.Words
	slots [chunkSlots]helperSlot
}

// helperSlot is a slot's set, phase, and the status of its mapping.
type helperSlot struct {
	set    uint32
	phase  uint8
	status uint8 // mapNone: a free slot
}

// slot returns slot i's mapping and the rest, its chunk made if need be.
func (h *mapHelper) slot(i int) (*reader.Words, *helperSlot) {
	for len(h.chunks) <= i/chunkSlots {
		h.chunks = append(h.chunks, new(helperChunk))
	}
	c := h.chunks[i/chunkSlots]
	return &c.words[i%chunkSlots], &c.slots[i%chunkSlots]
}

// helperSet is a set's offsets, and those of its check bytes.
type helperSet struct {
	offs  []int
	check [3]int
}

// serveMapper serves pollstats' commands from r, answering rounds on w,
// until r ends (nil) or an error; region is the shared region, stride
// words a slot.
func serveMapper(r io.Reader, w io.Writer, region []uint64, stride int, settle func()) error {
	h := &mapHelper{region: region, stride: stride, settle: settle}
	defer h.close()
	br := bufio.NewReaderSize(r, 1<<16)
	var head [4]byte
	for {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		n := binary.NativeEndian.Uint32(head[:])
		if n == 0 || n > 1<<20 {
			return fmt.Errorf("bad command length %d", n)
		}
		if cap(h.words) < int(n) {
			h.words = make([]byte, n)
		}
		b := h.words[:n]
		if _, err := io.ReadFull(br, b); err != nil {
			return err
		}
		if err := h.do(b, br.Buffered() == 0); err != nil {
			return err
		}
		if b[0] == 'R' {
			var done [4]byte
			copy(done[:], b[1:5])
			if _, err := w.Write(done[:]); err != nil {
				return err
			}
			if h.added >= 1024 && h.settle != nil {
				// The garbage of the adds (their commands, the slots
				// grown) is given back while pollstats has the answer.
				h.settle()
			}
			h.added = 0
		}
	}
}

// errCommand is a command the helper cannot make sense of.
var errCommand = errors.New("bad command")

// do carries out command b (op and arguments); idle says that no other
// command is waiting.
func (h *mapHelper) do(b []byte, idle bool) error {
	u32 := func(k int) int { return int(binary.NativeEndian.Uint32(b[k:])) }
	switch {
	case b[0] == 'S' && len(b) >= 13 && len(b) == 13+4*u32(9):
		id, end, n := u32(1), u32(5), u32(9)
		if id != len(h.sets) || n >= h.stride {
			return errCommand
		}
		s := helperSet{offs: make([]int, n), check: [3]int{0, end, end + 1}}
		for k := range n {
			s.offs[k] = u32(13 + 4*k)
		}
		h.sets = append(h.sets, s)
	case b[0] == 'A' && len(b) > 18:
		i, set := u32(1), u32(5)
		if set >= len(h.sets) || i >= len(h.region)/h.stride {
			return errCommand
		}
		w, sl := h.slot(i)
		w.Unmap()
		*sl = helperSlot{set: uint32(set), phase: b[9]}
		sl.status = h.mapFile(w, string(b[18:]), binary.NativeEndian.Uint64(b[10:]))
		h.added++
		if idle {
			h.dirs.reset()
		}
	case b[0] == 'D' && len(b) == 5:
		if i := u32(1); i < len(h.chunks)*chunkSlots {
			w, sl := h.slot(i)
			w.Unmap()
			*sl = helperSlot{}
		}
	case b[0] == 'R' && len(b) == 5:
		h.dirs.reset()
		h.round(uint32(u32(1)))
	default:
		return errCommand
	}
	return nil
}

// mapFile maps the file at path into w, if it is the regular file of
// inode ino, and returns the slot's status.
func (h *mapHelper) mapFile(w *reader.Words, path string, ino uint64) uint8 {
	fd, got, size, err := h.dirs.openWords(path)
	if err != nil {
		return mapGone
	}
	defer closeWords(fd)
	if fileID(got) != fileID(ino) {
		return mapAnother
	}
	if *w, err = reader.MapWords(fd, int(size)); err != nil {
		if size <= 0 {
			return mapShort
		}
		return mapFull
	}
	return mapOK
}

// round copies the words of every slot into the region, and for the
// slots due their full look at tick, their check bytes: the words of
// each run of slots of one set in one pass (reader.LoadSame).
func (h *mapHelper) round(tick uint32) {
	for ci, c := range h.chunks {
		base := ci * chunkSlots
		for i := 0; i < chunkSlots; {
			sl := &c.slots[i]
			if sl.status != mapOK {
				if sl.status != mapNone {
					h.header(base+i, sl.status, [3]byte{}, tick)
				}
				i++
				continue
			}
			j := i + 1
			for j < chunkSlots && c.slots[j].status == mapOK && c.slots[j].set == sl.set {
				j++
			}
			set := &h.sets[sl.set]
			for i < j {
				k, err := reader.LoadSame(c.words[i:j], set.offs, h.region[(base+i)*h.stride+1:], h.stride)
				for end := i + k; i < end; i++ {
					h.loaded(base+i, &c.words[i], &c.slots[i], set, tick)
				}
				if err != nil { // the file shrank
					h.header(base+i, mapShort, [3]byte{}, tick)
					i++
				}
			}
		}
	}
}

// loaded writes the header of slot i, whose words were loaded: with its
// check bytes if it is due its full look at tick.
func (h *mapHelper) loaded(i int, w *reader.Words, sl *helperSlot, set *helperSet, tick uint32) {
	var chk [3]byte
	st := uint8(mapOK)
	if (tick+uint32(sl.phase))%updateEvery == 0 {
		st = mapOK | mapChecked
		if w.LoadBytes(set.check[:], chk[:]) != nil {
			st = mapShort
		}
	}
	h.header(i, st, chk, tick)
}

// header writes slot i's header: its status, check bytes and tick.
func (h *mapHelper) header(i int, st uint8, chk [3]byte, tick uint32) {
	h.region[i*h.stride] = uint64(st) | uint64(chk[0])<<8 | uint64(chk[1])<<16 | uint64(chk[2])<<24 | uint64(tick)<<32
}

// close unmaps every file.
func (h *mapHelper) close() {
	for _, c := range h.chunks {
		for i := range c.words {
			c.words[i].Unmap()
		}
	}
	h.dirs.reset()
}
