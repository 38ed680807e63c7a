package pollstats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/mmstats"
)

// goHelpers are the helpers of goMapper, to kill (tests).
type goHelpers struct {
	mu      sync.Mutex
	socks   []int      // the helpers' ends of their sockets
	regions [][]uint64 // and their regions, writable
}

// kill ends every helper as its death would: its socket shut.
func (g *goHelpers) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, fd := range g.socks {
		unix.Shutdown(fd, unix.SHUT_RDWR)
	}
}

// goMapper makes the pollers of the test start their helpers as
// goroutines of the test, over a real socket pair and memfd region
// (startMapperWith), every file cold, and returns them.
func goMapper(t *testing.T) *goHelpers {
	t.Helper()
	g := &goHelpers{}
	coldForTest = true
	startMapper = func(slots, stride int) (mapperConn, error) {
		return startMapperWith(slots, stride, func(sock, mem *os.File) (func(), error) {
			fd, err := unix.Dup(int(sock.Fd()))
			if err != nil {
				return nil, err
			}
			raw, err := unix.Mmap(int(mem.Fd()), 0, slots*stride*8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
			if err != nil {
				unix.Close(fd)
				return nil, err
			}
			g.mu.Lock()
			g.socks = append(g.socks, fd)
			g.regions = append(g.regions, regionWords(raw))
			g.mu.Unlock()
			f := os.NewFile(uintptr(fd), "helper")
			done := make(chan struct{})
			go func() {
				defer close(done)
				if err := serveMapper(f, f, regionWords(raw), stride, nil); err != nil {
					t.Logf("helper: %v", err)
				}
			}()
			return func() {
				<-done
				g.mu.Lock()
				f.Close()
				g.mu.Unlock()
				unix.Munmap(raw)
			}, nil
		})
	}
	t.Cleanup(func() { coldForTest, startMapper = false, nil })
	return g
}

// The tests of the cold files' life, every file cold and read through a
// helper: they must read the same lines as without (TestColdFiles), and
// read words from the helper's region.
func TestColdFilesMapped(t *testing.T) {
	goMapper(t)
	before := mapperServed.Load()
	runColdTests(t)
	t.Run("Truncated", TestColdFileTruncated)
	if served := mapperServed.Load() - before; served == 0 {
		t.Error("no file's words were read from the helper's region")
	} else {
		t.Logf("%d reads from the region", served)
	}
}

// The hot loop over cold files read through a helper gives the lines of
// the files read one by one (a file truncated under the helper's
// mapping, files added, removed and replaced included).
func TestHotLoopSameLinesMapped(t *testing.T) {
	goMapper(t)
	before := mapperServed.Load()
	t.Cleanup(func() { // after the pollers' (closed by their cleanups)
		if mapperServed.Load() == before {
			t.Error("no file's words were read from the helper's region")
		}
	})
	hotLoopSameLines(t, true, -1)
}

// mappedPoller is a poller over cold files in dir read through a
// helper, polled twice, and its log.
func mappedPoller(t *testing.T, dir string) (*poller, *logLines) {
	t.Helper()
	log := &logLines{}
	o := &Options{Absolute: true, Streams: &cli.Streams{Out: io.Discard, Err: io.Discard}, Prefix: "web.stats",
		Fields: []string{"status.2XX"}, Args: []string{dir}, Delay: time.Second}
	src, err := newSources(cli.NewFileSet(o.Args))
	if err != nil {
		t.Fatal(err)
	}
	p, err := startPoller(o, src, &logger{w: log, level: levelWarn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p, log
}

// logLines is a poller's log, without the warning of the files past the
// mappings (every file is, in these tests).
type logLines struct{ strings.Builder }

func (l *logLines) Write(b []byte) (int, error) {
	if strings.HasPrefix(string(b), "pollstats: out of memory mappings (vm.max_map_count)") {
		return len(b), nil
	}
	return l.Builder.Write(b)
}

// pollAt polls p at the next second from *now, and returns the sum of
// its column.
func pollAt(p *poller, now *time.Time) uint64 {
	*now = now.Add(time.Second)
	p.poll(*now)
	_, lo := p.line[0].sum.Int128()
	return lo
}

// A cold file read through the helper, due its full look, is checked as
// lookWords checks it with a pread: superseded (first byte cleared), a
// field appended in place (the end marker set), the words read are
// not taken; and a file replaced at its path (another inode) is read as
// the new file, the helper mapping it again.
func TestMapperLookCatchesChanges(t *testing.T) {
	goMapper(t)
	dir := t.TempDir()
	w := newWriter(t, dir, "w0.mmstats")
	newWriter(t, dir, "w1.mmstats")
	w.OK.Add(41)
	p, log := mappedPoller(t, dir)
	now := time.Now().Add(2 * racyWindow)
	pollAt(p, &now)
	pollAt(p, &now)
	tr := p.files[w.f.Path()]
	if tr == nil || !tr.cold || !quickable(tr) || tr.wfd >= 0 {
		t.Fatalf("%s is not a cold file read through the helper: %+v", w.f.Path(), tr)
	}
	dst := make([]uint64, len(tr.fast.load))
	// A round at a tick that has the file due its full look.
	round := func() {
		t.Helper()
		p.tick++
		for !p.dueLook(tr) {
			p.tick++
		}
		p.mapBegin()
		p.mapWait()
	}
	read := func(want bool, why string) {
		t.Helper()
		round()
		clear(dst)
		served := p.mapper.served
		if got := p.lookWords(tr, dst); got != want {
			t.Fatalf("%s: lookWords %v, want %v", why, got, want)
		}
		if p.mapper.served == served && want {
			t.Fatalf("%s: not read from the region", why)
		}
		if want && dst[0] != 41 {
			t.Errorf("%s: words %v, want [41]", why, dst)
		}
	}
	read(true, "unchanged")
	setFirstByte(t, w.f.Path(), v1.Superseded)
	read(false, "superseded")
	setFirstByte(t, w.f.Path(), v1.Version1)
	read(true, "back")
	var extra mmstats.Counter
	if err := w.f.Add("extra", &extra); err != nil {
		t.Fatal(err)
	}
	read(false, "a field appended")

	// Another file at the path: read as the new file, through a slot of
	// its own.
	path := w.f.Path()
	old := tr.id
	nw := newWriter(t, dir, "new.tmp")
	nw.OK.Add(1000)
	if err := os.Rename(nw.f.Path(), path); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour) // past the directory's racy window
	for range 3 {
		pollAt(p, &now)
	}
	tr = p.files[path]
	if tr == nil || tr.id == old || tr.wfd >= 0 {
		t.Fatalf("the new file at %s is not read through the helper: %+v", path, tr)
	}
	served := p.mapper.served
	if got := pollAt(p, &now); got != 1000 {
		t.Errorf("after the file was replaced: %d, want 1000 (the new file's)", got)
	}
	if p.mapper.served == served {
		t.Error("the new file was not read from the region")
	}
	if log.Len() != 0 {
		t.Errorf("warnings:\n%s", log)
	}
}

// A file the helper cannot take (here: it finds another inode than the
// one pollstats gives) goes back to the cold path, read there, and is not
// given to the helper again while it is that file.
func TestMapperRefusedFile(t *testing.T) {
	goMapper(t)
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	a.OK.Add(5)
	b.OK.Add(7)
	p, log := mappedPoller(t, dir)
	now := time.Now().Add(2 * racyWindow)
	if got := pollAt(p, &now); got != 12 {
		t.Fatalf("sum %d, want 12", got)
	}
	tr := p.files[a.f.Path()]
	i, ok := slotOf(tr)
	if !ok {
		t.Fatalf("%s has no slot", tr.path)
	}
	m := &p.mapper
	s := m.slots[i]
	m.addCmd(i, s.set, s.phase, uint64(tr.id)+1, tr.path) // not its inode
	p.mapFlush()
	served := m.served
	if got := pollAt(p, &now); got != 12 {
		t.Errorf("sum %d once the helper refused a file, want 12", got)
	}
	if _, ok := slotOf(tr); ok || m.refused[tr] != tr.id {
		t.Errorf("the refused file keeps its slot (wfd %d), or is not said refused", tr.wfd)
	}
	if m.served != served+1 {
		t.Errorf("%d files read from the region, want 1 (b)", m.served-served)
	}
	p.dirty = true // mapSync again: the file is not given a slot
	b.OK.Add(1)
	if got := pollAt(p, &now); got != 13 {
		t.Errorf("sum %d, want 13", got)
	}
	if _, ok := slotOf(tr); ok {
		t.Error("the refused file was given a slot again")
	}
	if log.Len() != 0 {
		t.Errorf("warnings:\n%s", log)
	}
}

// A helper that cannot start leaves every file on the cold path, with
// one warning.
func TestMapperCannotStart(t *testing.T) {
	goMapper(t)
	startMapper = func(int, int) (mapperConn, error) { return nil, errors.New("no such thing") }
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	p, log := mappedPoller(t, dir)
	now := time.Now().Add(2 * racyWindow)
	for i := range 5 {
		a.OK.Add(2)
		b.OK.Add(3)
		if got := pollAt(p, &now); got != uint64(5*(i+1)) {
			t.Fatalf("interval %d: %d, want %d", i, got, 5*(i+1))
		}
	}
	if p.mapper.state != mapperDead {
		t.Errorf("state %d, want given up on", p.mapper.state)
	}
	want := "pollstats: cannot start the mapping helper (no such thing): the files past the mappings are read as before\n"
	if log.String() != want {
		t.Errorf("log:\n%s\nwant:\n%s", log, want)
	}
}

// A file the helper has no mapping left for goes back to the cold path,
// and no file is given to the helper until a mapped one leaves it.
func TestMapperFull(t *testing.T) {
	g := goMapper(t)
	dir := t.TempDir()
	a, b := newWriter(t, dir, "a.mmstats"), newWriter(t, dir, "b.mmstats")
	a.OK.Add(5)
	b.OK.Add(7)
	p, log := mappedPoller(t, dir)
	now := time.Now().Add(2 * racyWindow)
	pollAt(p, &now)
	pollAt(p, &now)
	ta, tb := p.files[a.f.Path()], p.files[b.f.Path()]
	i, ok := slotOf(ta)
	if _, okb := slotOf(tb); !ok || !okb {
		t.Fatal("the files have no slots")
	}
	// A round whose answer for a says: no mapping left.
	p.tick++
	p.mapBegin()
	p.mapWait()
	r := g.regions[0]
	r[i*p.mapper.stride] = mapFull | uint64(p.mapper.tick)<<32
	dst := make([]uint64, len(ta.fast.load))
	if !p.coldWords(ta, dst) || dst[0] != 5 {
		t.Errorf("a, refused: read %v, want [5] read the cold way", dst)
	}
	if _, ok := slotOf(ta); ok || !p.mapper.full {
		t.Errorf("a keeps its slot (wfd %d), or the helper is not said full", ta.wfd)
	}
	p.finish()
	c := newWriter(t, dir, "c.mmstats")
	c.OK.Add(1)
	now = now.Add(time.Hour) // past the directory's racy window
	for range 2 {
		if got := pollAt(p, &now); got != 13 {
			t.Errorf("sum %d, want 13", got)
		}
	}
	if tc := p.files[c.f.Path()]; tc == nil || !tc.cold {
		t.Fatalf("c is not a cold file: %+v", tc)
	} else if _, ok := slotOf(tc); ok {
		t.Error("c was given to a full helper")
	}
	if log.Len() != 0 {
		t.Errorf("warnings:\n%s", log)
	}
}

// A helper that stops answering is given up on after mapperTimeout: one
// warning, every file back on the cold path, the sums exact.
func TestMapperHangs(t *testing.T) {
	goMapper(t)
	old := mapperTimeout
	mapperTimeout = 50 * time.Millisecond
	t.Cleanup(func() { mapperTimeout = old })
	startMapper = func(slots, stride int) (mapperConn, error) {
		return startMapperWith(slots, stride, func(sock, _ *os.File) (func(), error) {
			fd, err := unix.Dup(int(sock.Fd()))
			if err != nil {
				return nil, err
			}
			f := os.NewFile(uintptr(fd), "mute")
			done := make(chan struct{})
			go func() { io.Copy(io.Discard, f); close(done) }() // takes the commands, answers none
			return func() { <-done; f.Close() }, nil
		})
	}
	dir := t.TempDir()
	a := newWriter(t, dir, "a.mmstats")
	p, log := mappedPoller(t, dir)
	now := time.Now().Add(2 * racyWindow)
	for i := range 5 {
		a.OK.Add(2)
		if got := pollAt(p, &now); got != uint64(2*(i+1)) {
			t.Fatalf("interval %d: %d, want %d", i, got, 2*(i+1))
		}
	}
	if p.mapper.state != mapperDead {
		t.Errorf("state %d, want given up on", p.mapper.state)
	}
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pollstats: the mapping helper failed (no answer in ") {
		t.Errorf("want one warning that the helper failed, got:\n%s", log)
	}
}

// A helper that dies in the middle of a run leaves every file on the cold
// path: one warning, and the sums go on exact.
func TestMapperDiesFallsBack(t *testing.T) {
	g := goMapper(t)
	dir := t.TempDir()
	var ws []*writer
	for i := range 5 {
		ws = append(ws, newWriter(t, dir, fmt.Sprintf("w%d.mmstats", i)))
	}
	p, log := mappedPoller(t, dir)
	now := time.Now().Add(2 * racyWindow)
	want := uint64(0)
	for step := range 40 {
		if step == 20 {
			if p.mapper.state != mapperOn || p.mapper.served == 0 {
				t.Fatalf("no helper read the files before it was killed: state %d, %d served", p.mapper.state, p.mapper.served)
			}
			g.kill()
		}
		for i, w := range ws {
			w.OK.Add(uint64(i + 1))
			want += uint64(i + 1)
		}
		if got := pollAt(p, &now); got != want {
			t.Fatalf("interval %d: %d, want %d", step, got, want)
		}
	}
	if p.mapper.state != mapperDead {
		t.Errorf("the helper is not given up on (state %d)", p.mapper.state)
	}
	for _, tr := range p.files {
		if tr.wfd < 0 {
			t.Errorf("%s still has a slot", tr.path)
		}
	}
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pollstats: the mapping helper failed (it exited): the 5 files it read are read as before") {
		t.Errorf("want one warning that the helper failed, got:\n%s", log)
	}
}

// The helper's side of the protocol, over a real socket and region:
// a file mapped, one gone, one of another inode, one truncated under its
// mapping, a slot dropped and given to another file; the check bytes of
// the slots due their full look.
func TestServeMapper(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	page := make([]byte, 4096)
	binary.NativeEndian.PutUint64(page[8:], 7)
	binary.NativeEndian.PutUint64(page[16:], 9)
	page[100] = 1 // an end marker set: a field appended
	for _, p := range []string{a, b} {
		if err := os.WriteFile(p, page, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var sa, sb unix.Stat_t
	if unix.Stat(a, &sa) != nil || unix.Stat(b, &sb) != nil {
		t.Fatal("stat")
	}
	const slots, stride = 8, 3
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(pair[0]), "ours"), os.NewFile(uintptr(pair[1]), "theirs")
	defer ours.Close()
	region := make([]uint64, slots*stride)
	done := make(chan error, 1)
	go func() { done <- serveMapper(theirs, theirs, region, stride, nil); theirs.Close() }()

	m := &mapper{stride: stride, sets: map[mapSetKey]uint32{}}
	var cmds []byte
	add := func(slot int, path string, ino uint64, end int, phase uint8) {
		m.out = m.out[:0]
		if len(m.setOf) == 0 {
			m.cmd('S', 12+4*2)
			for _, v := range []uint32{0, uint32(end), 2, 8, 16} {
				m.out = binary.NativeEndian.AppendUint32(m.out, v)
			}
			m.setOf = append(m.setOf, mapSetKey{})
		}
		m.addCmd(slot, 0, phase, ino, path)
		cmds = append(cmds, m.out...)
	}
	round := func(tick uint32) {
		t.Helper()
		m.out = m.out[:0]
		m.cmd('R', 4)
		m.out = binary.NativeEndian.AppendUint32(m.out, tick)
		if _, err := ours.Write(append(cmds, m.out...)); err != nil {
			t.Fatal(err)
		}
		cmds = cmds[:0]
		var ans [4]byte
		if _, err := io.ReadFull(ours, ans[:]); err != nil || binary.NativeEndian.Uint32(ans[:]) != tick {
			t.Fatalf("round %d: answer %v, %v", tick, ans, err)
		}
	}
	header := func(slot int) (status, first, e0, e1 uint8, tick uint32) {
		h := region[slot*stride]
		return uint8(h), uint8(h >> 8), uint8(h >> 16), uint8(h >> 24), uint32(h >> 32)
	}
	add(0, a, sa.Ino, 100, 0)
	add(1, filepath.Join(dir, "none"), 1, 100, 0)
	add(2, b, sa.Ino+sb.Ino, 100, 0) // not b's inode
	add(3, b, sb.Ino, 100, 1)
	round(1) // due: slot 3 (1+1 is not), none
	if st, _, _, _, tick := header(0); st != mapOK || tick != 1 || region[1] != 7 || region[2] != 9 {
		t.Errorf("slot 0: status %d tick %d words %v", st, tick, region[1:3])
	}
	for slot, want := range map[int]uint8{1: mapGone, 2: mapAnother, 3: mapOK} {
		if st, _, _, _, _ := header(slot); st != want {
			t.Errorf("slot %d: status %#x, want %#x", slot, st, want)
		}
	}
	round(15) // due: slot 3 (15+1)
	if st, first, e0, e1, _ := header(3); st != mapOK|mapChecked || first != 0 || e0 != 1 || e1 != 0 {
		t.Errorf("slot 3 due: status %#x, check bytes %d %d %d", st, first, e0, e1)
	}
	if st, _, _, _, _ := header(0); st != mapOK {
		t.Errorf("slot 0 not due: status %#x", st)
	}
	if err := os.Truncate(a, 0); err != nil {
		t.Fatal(err)
	}
	round(16) // due: slot 0
	if st, _, _, _, _ := header(0); st != mapShort {
		t.Errorf("slot 0 truncated: status %#x, want short", st)
	}
	m.out = m.out[:0]
	m.cmd('D', 4)
	m.out = binary.NativeEndian.AppendUint32(m.out, 0)
	cmds = append(cmds, m.out...)
	add(0, b, sb.Ino, 100, 0)
	round(17)
	if st, _, _, _, tick := header(0); st != mapOK || tick != 17 || region[1] != 7 {
		t.Errorf("slot 0 given to b: status %#x tick %d words %v", st, tick, region[1:3])
	}
	// A bad command ends the helper with an error.
	if _, err := ours.Write([]byte{1, 0, 0, 0, 'X'}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != errCommand {
		t.Errorf("a bad command: %v, want errCommand", err)
	}
}
