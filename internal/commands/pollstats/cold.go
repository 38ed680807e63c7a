package pollstats

import (
	"encoding/binary"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/reader"
)

// Files past the mapping budget. A process can map only so many files
// (vm.max_map_count): reader.Open reads the files past its budget into a
// private copy, which costs the file's size in memory for as long as the
// file is open (20 KiB for a web worker's file: 1 GiB over 50,000 of
// them). pollstats keeps no copy: such a file, when it has the layout
// of others (a shape of pkg/reader, the workers of one program), is
// "cold": read again each interval through one reader.Snapshot, which
// reads only the bytes of its layout and values into a buffer used for
// every cold file, and checks the layout rather than parsing it. What
// pollstats keeps of a cold file is what it keeps of any file: the
// indexes of its columns, its baselines, and the shared layout they
// were found in; a file whose layout is no longer that one (fields
// appended, another file) is bound again, and one that the path no
// longer names (another inode) is left to the next look at the sources.

// fdLimit is fdBudget, but in tests.
var fdLimit = fdBudget

// coldForTest makes every file that can be cold, mapped or not: the
// tests run through cold files without filling the process's mappings.
var coldForTest bool

// fileOf returns t's file to look through now: its open File, or for a
// cold file, the File just read through p.snap, valid until the next
// read of a cold file. nil if it cannot be read (reported).
func (p *poller) fileOf(t *tracked) *reader.File {
	if t.f != nil || !t.cold {
		return t.f
	}
	f, err := p.snap.Open(t.path)
	if err != nil {
		p.fail(t, err)
		return nil
	}
	return f
}

// openFile opens the file at path: mapped by reader.Open, or once the
// mappings ran out (a file was made cold), read through p.snap first, so
// that the files opened past the budget make no copy, not even for a
// moment (100,000 files: a gigabyte of garbage at start). cold says the
// File is p.snap's, of a shared layout: the file is cold.
func (p *poller) openFile(path string) (f *reader.File, cold bool, err error) {
	if p.warnedCold {
		f, err = p.snap.Open(path)
		if err == nil && f.SharedLayout() != nil {
			return f, true, nil
		}
	}
	f, err = reader.Open(path)
	return f, false, err
}

// chill makes t cold if its file, just opened, is a copy that has a
// shared layout, and not for a view (whose columns are found through
// each file at start): the copy is dropped.
func (p *poller) chill(t *tracked) {
	l := t.f.SharedLayout()
	if !(t.f.IsCopy() || coldForTest) || l == nil || p.runtime {
		if t.f.IsCopy() {
			p.log.warnf("%s: out of memory mappings, reading a copy of it every interval", cli.Quote(t.path))
		}
		return
	}
	t.f.Close()
	t.f, t.cold, t.layout = nil, true, l
	if !p.warnedCold {
		p.log.warnf("out of memory mappings (vm.max_map_count): the files past them are read again every interval, %s the first; "+
			"a vm.max_map_count above the number of files keeps them all mapped, for a fraction of the CPU", cli.Quote(t.path))
		p.warnedCold = true
	}
	p.log.infof("%s: read again every interval (no mapping left)", cli.Quote(t.path))
}

// look reads cold file t for this poll, binding it again if its layout
// changed, and reports whether it is read and combined: then t.f is the
// File read, valid until the next look (the caller sets it back to nil
// when done), else t.f is nil.
func (p *poller) look(t *tracked) bool {
	t.updated = int32(p.tick)
	f, err := p.snap.Open(t.path)
	if err != nil {
		p.fail(t, err)
		return false
	}
	if fileID(f.Inode()) != t.id {
		return false // another file at the path: the next look at the sources replaces t
	}
	if l := f.SharedLayout(); l != t.layout {
		if l == nil { // too large to share now: a file of its own
			t.cold = false
			if p.open(t) {
				p.bind(t)
			}
			p.dirty = true
			return false
		}
		t.f, t.layout = f, l
		t.bind(p.cols, p.filters, p.each, p.log)
		p.share(t)
		p.dirty = true
	}
	if !t.included {
		t.f = nil
		return false
	}
	t.f = f
	return true
}

// warm sets a cold file's File back to nil after it was read: the
// snapshot's buffer is the next cold file's.
func (t *tracked) warm() {
	if t.cold {
		t.f = nil
	}
}

// quick reads cold file t's words for this poll, and reports whether it
// did (then p.cur holds its values). A cold file read as words (its
// bindings have a wordRead, no histogram) needs nothing of its layout
// between two looks: its words are read with one pread, through a
// descriptor kept open while the budget of descriptors lasts (the rest
// are opened and closed each interval), the inode checked when opened.
// Every updateEvery polls (at its phase, so that the full looks are
// spread over the polls) it is looked at whole instead, its layout
// checked against its shape, as a mapped file is updated (see due); so
// is a file that cannot be opened, is another file, or is shorter than
// its words: look says why.
func (p *poller) quick(t *tracked) bool {
	w := t.fast
	if !quickable(t) || p.dueLook(t) {
		return false
	}
	words := p.wordScratch(len(w.load))
	if !p.coldWords(t, words) {
		return false
	}
	t.updated = int32(p.tick)
	w.decode(words, p.scratch(len(t.idx)))
	return true
}

// quickable reports whether cold file t can be read as words.
func quickable(t *tracked) bool {
	return t.fast != nil && len(t.hists) == 0 && len(t.fast.load) > 0
}

// dueLook reports whether cold file t is due its full look this poll.
func (p *poller) dueLook(t *tracked) bool {
	return (p.tick+int(t.phase))%updateEvery == 0
}

// coldWords reads the words of cold file t (t.fast.load) into dst, and
// reports whether it could (see quick).
func (p *poller) coldWords(t *tracked, dst []uint64) bool { return p.readWords(t, dst, false) }

// lookWords is coldWords for a cold file due its full look (see quick):
// what reader.UnchangedWords checks of a mapped file every updateEvery
// polls is checked too, read with the words: its first byte (the words
// are read from the start of the file for it), which the writer clears
// when it supersedes the file by a larger copy, and the two bytes at the
// end of its layout, the end marker, zero while no field was appended.
// It reports false when either changed, or the words cannot be read:
// look then finds what changed.
func (p *poller) lookWords(t *tracked, dst []uint64) bool { return p.readWords(t, dst, true) }

// readWords is coldWords, and with check lookWords.
func (p *poller) readWords(t *tracked, dst []uint64, check bool) bool {
	w := t.fast
	if t.wfd < 0 { // read by the mapping helper
		if ok, served := p.mapped(t, dst, check); served {
			return ok
		}
	}
	fd, own := int(t.wfd)-1, false
	if t.wfd <= 0 {
		var ino uint64
		var err error
		if fd, ino, _, err = p.dirs.openWords(t.path); err != nil {
			return false
		}
		if fileID(ino) != t.id {
			closeWords(fd)
			return false
		}
		if p.fds < p.fdMax && t.wfd == 0 {
			t.wfd = int32(fd + 1)
			p.fds++
		} else {
			own = true
		}
	}
	lo := w.lo
	if check {
		lo = 0
	}
	if cap(p.coldBuf) < w.hi+2 {
		p.coldBuf = make([]byte, w.hi+2)
	}
	buf := p.coldBuf[:w.hi-lo]
	ok := preadWords(fd, buf, lo)
	if ok && check {
		end := p.coldBuf[w.hi : w.hi+2]
		ok = buf[0] != v1.Superseded && t.layout != nil && preadWords(fd, end, t.layout.End) && end[0] == 0 && end[1] == 0
	}
	if own {
		closeWords(fd)
	}
	if !ok {
		return false
	}
	for j, off := range w.load {
		dst[j] = binary.NativeEndian.Uint64(buf[off-lo:])
	}
	return true
}
