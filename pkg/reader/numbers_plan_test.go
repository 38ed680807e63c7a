package reader_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/v1"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// planStats has a number of every kind the Go writer makes, a string
// and a timer (a group under a sequence word).
type planStats struct {
	Hits  mmstats.Counter `mmstats:"hits"`
	Temp  mmstats.Float64 `mmstats:"temp"`
	Level mmstats.Int32   `mmstats:"level"`
	Up    mmstats.Bool    `mmstats:"up"`
	Path  mmstats.String  `mmstats:"path,size=32"`
	Lat   mmstats.Timer   `mmstats:"lat"`
	Small mmstats.Uint32  `mmstats:"small"`
}

// samePlan checks that p.Read(f) gives what f.ReadNumbers gives: the
// same values, the same error or none.
func samePlan(t *testing.T, what string, p *reader.NumberPlan, f *reader.File) {
	t.Helper()
	want := make([]reader.Value, f.Len())
	got := make([]reader.Value, f.Len())
	werr := f.ReadNumbers(want)
	gerr := p.Read(f, got)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("%s: Read: %v; ReadNumbers: %v", what, gerr, werr)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: field %d: %v; ReadNumbers: %v", what, i, got[i], want[i])
		}
	}
}

// TestNumberPlan: a plan made from one file reads every file of its
// layout as ReadNumbers reads it, for random values in each, without
// allocating; a file of another layout, or whose writer changed the
// layout since, is read as ReadNumbers reads it, never through the
// plan's offsets.
func TestNumberPlan(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var models []*planStats
	var files []*reader.File
	for i := range 8 {
		s := &planStats{}
		newWriterIn(t, dir, fmt.Sprintf("p%d.mmstats", i), s)
		f, err := reader.Open(filepath.Join(dir, fmt.Sprintf("p%d.mmstats", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		models, files = append(models, s), append(files, f)
	}
	p := reader.NewNumberPlan(files[0])
	if p == nil {
		t.Fatal("no plan")
	}
	for round := range 20 {
		for _, s := range models {
			if rng.IntN(2) == 0 {
				continue
			}
			s.Hits.Add(rng.Uint64N(1000))
			s.Temp.Set(rng.NormFloat64())
			s.Level.Set(rng.Int32() - rng.Int32())
			s.Up.Set(rng.IntN(2) == 0)
			s.Path.Set(fmt.Sprint("/", rng.IntN(100)))
			s.Small.Set(rng.Uint32())
			for range rng.IntN(5) {
				s.Lat.Observe(time.Duration(rng.Int64N(int64(time.Second))))
			}
		}
		for k, f := range files {
			samePlan(t, fmt.Sprintf("round %d file %d", round, k), p, f)
		}
	}
	shared := 0
	for _, f := range files {
		if f.Layout() == p.Layout() {
			shared++
		}
	}
	if shared < 2 {
		t.Errorf("%d files share the plan's layout: the plan's own path is not tested", shared)
	}
	dst := make([]reader.Value, files[1].Len())
	if n := testing.AllocsPerRun(100, func() { p.Read(files[1], dst) }); n != 0 {
		t.Errorf("Read: %v allocations", n)
	}

	// A file of another layout, read through the plan: its own numbers.
	var other struct {
		A mmstats.Float64 `mmstats:"a"`
		B mmstats.Counter `mmstats:"hits"`
		L mmstats.Timer   `mmstats:"lat"`
	}
	newWriterIn(t, dir, "other.mmstats", &other)
	other.A.Set(3.25)
	other.B.Add(99)
	other.L.Observe(time.Millisecond)
	of, err := reader.Open(filepath.Join(dir, "other.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	samePlan(t, "another layout", p, of)

	// A short dst: ReadNumbers' error.
	if err := p.Read(files[0], dst[:1]); err == nil {
		t.Error("a short dst: no error")
	}
}

// TestNumberPlanLayoutChanged: the writer adds a field to a file after
// the plan was made from it: read through the plan, after Update, the
// file gives its new numbers (ReadNumbers'), not the old layout's.
func TestNumberPlanLayoutChanged(t *testing.T) {
	var s struct {
		A mmstats.Counter `mmstats:"a"`
		T mmstats.Timer   `mmstats:"t"`
	}
	w := newWriter(t, &s)
	s.A.Add(5)
	f, err := reader.Open(w.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := reader.NewNumberPlan(f)
	samePlan(t, "before", p, f)
	var b mmstats.Float64
	if err := w.Add("b", &b); err != nil {
		t.Fatal(err)
	}
	b.Set(7.5)
	s.A.Add(1)
	if _, err := f.Update(); err != nil {
		t.Fatal(err)
	}
	if f.Layout() == p.Layout() {
		t.Fatal("the layout is the plan's after fields were added")
	}
	samePlan(t, "after fields were added", p, f)
	got := make([]reader.Value, f.Len())
	if err := p.Read(f, got); err != nil {
		t.Fatal(err)
	}
	if i, _, ok := f.Lookup("b"); !ok || got[i] != reader.FloatValue(7.5) {
		t.Errorf("the new field: %v", got)
	}
}

// TestNumberPlanTruncated: a mapping that shrank under the reader is
// ErrFault, as for ReadNumbers, never a crash.
func TestNumberPlanTruncated(t *testing.T) {
	s := &planStats{}
	w := newWriter(t, s)
	s.Hits.Add(3)
	// A copy: the writer's own mapping would fault too.
	path := copyOf(t, w.Path())
	f, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := reader.NewNumberPlan(f)
	samePlan(t, "before", p, f)
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	dst := make([]reader.Value, f.Len())
	if err := p.Read(f, dst); !errors.Is(err, reader.ErrFault) {
		t.Errorf("a truncated mapping: %v, want ErrFault", err)
	}
}

// copyOf copies the file at path into the test's temporary directory,
// and returns the copy's path: a file no writer touches.
func copyOf(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.mmstats")
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestNumberPlanStuckGroup: a group whose sequence word stays odd (its
// writer died in the middle of an update) is read as ReadNumbers reads
// it (after its wait), not from one try.
func TestNumberPlanStuckGroup(t *testing.T) {
	s := &planStats{}
	w := newWriter(t, s)
	s.Lat.Observe(time.Millisecond)
	// A copy: the live writer's publisher rewrites the timer's windows
	// under the same sequence word on its own clock, and a group it is
	// writing would then differ between the two reads.
	path := copyOf(t, w.Path())
	f, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := reader.NewNumberPlan(f)
	_, head, ok := f.Lookup("lat")
	if !ok || head.Seq < 0 {
		t.Fatal("the timer has no sequence word")
	}
	wf, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer wf.Close()
	var word [8]byte
	if _, err := wf.ReadAt(word[:], int64(head.Seq)); err != nil {
		t.Fatal(err)
	}
	seq, ok := v1.DecodeSeq(word)
	if !ok {
		t.Fatal("not a sequence word")
	}
	odd := v1.EncodeSeq(seq | 1)
	if _, err := wf.WriteAt(odd[:], int64(head.Seq)); err != nil {
		t.Fatal(err)
	}
	samePlan(t, "a stuck group", p, f)
}

// TestNumberPlanPython: the Python writer's files (packed, buffered
// fields, other byte orders) are read as ReadNumbers reads them.
func TestNumberPlanPython(t *testing.T) {
	paths, err := filepath.Glob("testdata/python-v1/*.mmstats")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		f, err := reader.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		p := reader.NewNumberPlan(f)
		if p == nil {
			t.Errorf("%s: no plan", path)
		} else {
			samePlan(t, path, p, f)
		}
		f.Close()
	}
}

// BenchmarkNumberPlan: a web worker's file's numbers read through its
// layout's plan, against ReadNumbers.
func BenchmarkNumberPlan(b *testing.B) {
	s := &planStats{}
	w, err := mmstats.New(s, mmstats.Options{Dir: b.TempDir(), Filename: "b.mmstats"})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Remove()
	f, err := reader.Open(w.Path())
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	dst := make([]reader.Value, f.Len())
	p := reader.NewNumberPlan(f)
	b.Run("ReadNumbers", func(b *testing.B) {
		for b.Loop() {
			f.ReadNumbers(dst)
		}
	})
	b.Run("plan", func(b *testing.B) {
		for b.Loop() {
			p.Read(f, dst)
		}
	})
}

// sameCoarse checks that p.Read(f) gives what f.ReadCoarseHistogram
// gives for field i at schema.
func sameCoarse(t *testing.T, what string, p *reader.CoarsePlan, f *reader.File, i, schema int) {
	t.Helper()
	var want, got reader.CoarseHistogram
	werr := f.ReadCoarseHistogram(i, schema, &want)
	gerr := p.Read(f, schema, &got)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("%s: Read: %v; ReadCoarseHistogram: %v", what, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Errorf("%s: Read: %+v\nReadCoarseHistogram: %+v", what, got, want)
	}
}

// TestCoarsePlan: a plan made from one file reads the histogram of every
// file of its layout as ReadCoarseHistogram reads it, at every schema,
// for random observations; a file of another layout, or whose writer
// changed its layout since, as ReadCoarseHistogram reads it (never
// through the plan's parts); a mapping that shrank is ErrFault.
func TestCoarsePlan(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	var models []*planStats
	var files []*reader.File
	var writers []*mmstats.File
	for i := range 6 {
		s := &planStats{}
		writers = append(writers, newWriterIn(t, dir, fmt.Sprintf("c%d.mmstats", i), s))
		f, err := reader.Open(filepath.Join(dir, fmt.Sprintf("c%d.mmstats", i)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		models, files = append(models, s), append(files, f)
	}
	i, _, ok := files[0].Lookup("lat.count")
	if !ok {
		i, _, ok = files[0].Lookup("lat")
	}
	if !ok {
		t.Fatal("no timer")
	}
	p, err := reader.NewCoarsePlan(files[0], i)
	if err != nil {
		t.Fatal(err)
	}
	for round := range 10 {
		for _, s := range models {
			for range rng.IntN(20) {
				s.Lat.Observe(time.Duration(rng.Int64N(int64(10 * time.Second))))
			}
		}
		for _, w := range writers {
			w.Refresh()
		}
		for k, f := range files {
			for schema := range 4 {
				sameCoarse(t, fmt.Sprintf("round %d file %d schema %d", round, k, schema), p, f, i, schema)
			}
		}
	}
	var c reader.CoarseHistogram
	if n := testing.AllocsPerRun(100, func() { p.Read(files[1], 0, &c) }); n != 0 {
		t.Errorf("Read: %v allocations", n)
	}

	// Another layout: its own histogram (or error), not the plan's.
	var other struct {
		A mmstats.Counter `mmstats:"a"`
		B mmstats.Counter `mmstats:"b"`
		L mmstats.Timer   `mmstats:"lat"`
	}
	newWriterIn(t, dir, "other.mmstats", &other)
	other.L.Observe(time.Millisecond)
	of, err := reader.Open(filepath.Join(dir, "other.mmstats"))
	if err != nil {
		t.Fatal(err)
	}
	defer of.Close()
	sameCoarse(t, "another layout", p, of, i, 0)

	// The writer adds a field after the plan was made.
	var extra mmstats.Counter
	if err := writers[2].Add("extra", &extra); err != nil {
		t.Fatal(err)
	}
	models[2].Lat.Observe(time.Second)
	writers[2].Refresh()
	if _, err := files[2].Update(); err != nil {
		t.Fatal(err)
	}
	if files[2].Layout() == p.Layout() {
		t.Fatal("the layout is the plan's after a field was added")
	}
	sameCoarse(t, "a field added", p, files[2], i, 0)

	// A copy that shrinks under its mapping.
	data, err := os.ReadFile(writers[3].Path())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "copy.mmstats")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cf, err := reader.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	cp, err := reader.NewCoarsePlan(cf, i)
	if err != nil {
		t.Fatal(err)
	}
	sameCoarse(t, "a copy", cp, cf, i, 0)
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	if err := cp.Read(cf, 0, &c); !errors.Is(err, reader.ErrFault) {
		t.Errorf("a mapping that shrank: %v, want ErrFault", err)
	}
	if _, err := reader.NewCoarsePlan(files[0], 0); err == nil {
		t.Error("a plan of a field that is not a histogram's")
	}
}
