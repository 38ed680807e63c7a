package pollstats

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// nameCounted has a counter where webStats has a string: name.
type nameCounted struct {
	Name mmstats.Counter `mmstats:"name"`
	OK   mmstats.Counter `mmstats:"status.2XX"`
}

// TestSharedBindingsAsBound: the files of one layout past the first
// checkShared take the bindings of the first as they are (poller.bind);
// each of them, bound afresh, has exactly those bindings.
func TestSharedBindingsAsBound(t *testing.T) {
	dir := t.TempDir()
	for i := range 8 {
		newWriter(t, dir, fmt.Sprintf("w%d.mmstats", i)).OK.Add(uint64(i))
	}
	o := &Options{Prefix: "web.stats", Fields: []string{"status.2XX", "load", "temp", "queue"}, Args: []string{dir}, Delay: time.Second}
	p := quietPoller(t, o)
	var first *bindings
	for path, tr := range p.files {
		if first == nil {
			first = tr.bindings
		}
		if tr.bindings != first {
			t.Errorf("%s: bindings not shared", path)
		}
		f, _, err := p.openFile(path)
		if err != nil {
			t.Fatal(err)
		}
		fresh := *tr
		fresh.f, fresh.bindings = f, unbound
		fresh.bind(p.cols, p.filters, p.each, p.log)
		if !fresh.bindings.same(tr.bindings) {
			t.Errorf("%s: bound afresh to other bindings than shared", path)
		}
		f.Close()
	}
	if n := p.checked[first]; n != checkShared {
		t.Errorf("%d files bound afresh past the first, want %d", n, checkShared)
	}
}

// TestStringColumnWarnedEachFile: a column that is a string in a layout
// is warned about for each file of it, those that take the shared
// bindings as those bound afresh.
func TestStringColumnWarnedEachFile(t *testing.T) {
	dir := t.TempDir()
	s := new(nameCounted)
	f, err := mmstats.New(s, mmstats.Options{Dir: dir, Filename: "counted.mmstats", LabelPrefix: "web.stats."})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	h := newHarness(t, func() { // files where name is a string join
		for i := range 6 {
			newWriter(t, dir, fmt.Sprintf("w%d.mmstats", i))
		}
	})
	if code := h.run("-v", "-c", "3", "-p", "web.stats", "name,status.2XX", dir); code != 0 {
		t.Fatalf("exit %d: %s", code, h.err.String())
	}
	if n := strings.Count(h.err.String(), "is a string here"); n != 6 {
		t.Errorf("%d warnings of a string column, want 6 (one a file):\n%s\n%s", n, h.err.String(), h.out.String())
	}
}
