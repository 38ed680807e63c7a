package reader_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// Read every stat of a file once.
func ExampleReadFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var stats struct {
		Requests mmstats.Counter `mmstats:"requests"`
		Status   mmstats.String  `mmstats:"status,size=32"`
	}
	w, err := mmstats.New(&stats, mmstats.Options{Dir: dir, Filename: "app.mmstats"})
	if err != nil {
		panic(err)
	}
	defer w.Remove()
	stats.Requests.Add(3)
	stats.Status.Set("serving")

	all, err := reader.ReadFile(w.Path())
	if err != nil {
		panic(err)
	}
	for _, s := range all[:2] {
		fmt.Println(s.Label, s.Type, s.Value)
	}
	// Output:
	// requests Q 3
	// status 32s serving
}

// Parse is pure: it takes the bytes of a file, here one that Python
// mmstats 0.8.0 wrote.
func ExampleParse() {
	data, err := os.ReadFile(filepath.Join("testdata", "python-v1", "counters.mmstats"))
	if err != nil {
		panic(err)
	}
	layout, err := reader.Parse(data)
	if err != nil {
		panic(err)
	}
	stats, _ := reader.Stats(data, layout)
	for _, s := range stats {
		fmt.Printf("%-15s %s\n", s.Label, s.Value)
	}
	// Output:
	// requests        42
	// errors.total    0
	// latency.avg     30.0
	// load.moving3    3.0
	// db.query.timer  1.0
}

// Poll a file: the layout is parsed once, then only values are read.
func ExampleFile_Value() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var stats struct {
		Hits mmstats.Counter `mmstats:"hits"`
	}
	w, _ := mmstats.New(&stats, mmstats.Options{Dir: dir, Filename: "app.mmstats"})
	defer w.Remove()

	f, err := reader.Open(w.Path())
	if err != nil {
		panic(err)
	}
	defer f.Close()
	for i := 0; i < 3; i++ {
		stats.Hits.Inc()
		v, _ := f.Value(0)
		fmt.Println(f.Fields()[0].Label, v.Uint())
	}
	// Output:
	// hits 1
	// hits 2
	// hits 3
}

// Open a file by its path and print its stats.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var stats struct {
		Requests mmstats.Counter `mmstats:"requests"`
		Load     mmstats.Float64 `mmstats:"load"`
	}
	w, _ := mmstats.New(&stats, mmstats.Options{Dir: dir, Filename: "app.mmstats"})
	defer w.Remove()
	stats.Requests.Add(12)
	stats.Load.Set(0.5)

	f, err := reader.Open(filepath.Join(dir, "app.mmstats"))
	if err != nil {
		panic(err) // a *PathError: "PATH: reason"
	}
	defer f.Close()
	f.ScanStats(func(s *reader.Stat) bool {
		fmt.Println(s.Label, s.Value)
		return s.Label != "load" // the default fields (sys.pid...) follow
	})
	// Output:
	// requests 12
	// load 0.5
}

// A tool that opens files itself, here confined to a directory by an
// os.Root, reads the very file it opened.
func ExampleOpenFile() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var stats struct {
		Requests mmstats.Counter `mmstats:"requests"`
	}
	w, _ := mmstats.New(&stats, mmstats.Options{Dir: dir, Filename: "app.mmstats"})
	defer w.Remove()
	stats.Requests.Add(7)

	root, err := os.OpenRoot(dir)
	if err != nil {
		panic(err)
	}
	defer root.Close()
	file, err := root.Open("app.mmstats")
	if err != nil {
		panic(err)
	}
	defer file.Close() // the caller's: File.Close leaves it open
	f, err := reader.OpenFile(file)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	v, _ := f.Value(0)
	fmt.Println(f.Fields()[0].Label, v)
	// Output:
	// requests 7
}

// Find a field by its label, then read it as often as needed.
func ExampleFile_Lookup() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	w, _ := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "app.mmstats"})
	defer w.Remove()

	f, err := reader.Open(w.Path())
	if err != nil {
		panic(err)
	}
	defer f.Close()
	i, field, ok := f.Lookup("sys.pid")
	if !ok {
		panic("no sys.pid")
	}
	pid, _ := f.Value(i)
	fmt.Println(field.Label, field.Sig.Code == 'I', pid.Uint() == uint64(os.Getpid()))
	_, _, ok = f.Lookup("no.such.label")
	fmt.Println(ok)
	// Output:
	// sys.pid true true
	// false
}

// Poll a file while its writer adds fields: Update picks them up (and
// follows the file when its writer grows it), whether the file is mapped
// or, past the process's mapping limit, read as a copy.
func ExampleFile_Update() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	var stats struct {
		Hits mmstats.Counter `mmstats:"hits"`
	}
	w, _ := mmstats.New(&stats, mmstats.Options{Dir: dir, Filename: "app.mmstats"})
	defer w.Remove()

	f, err := reader.Open(w.Path())
	if err != nil {
		panic(err)
	}
	defer f.Close()
	var misses mmstats.Counter
	w.Add("misses", &misses)
	misses.Add(2)
	_, _, found := f.Lookup("misses")
	fmt.Println("before Update:", found)

	changed, err := f.Update()
	if err != nil {
		panic(err) // ErrReplaced: another file took the path; open it again
	}
	i, _, found := f.Lookup("misses")
	v, _ := f.Value(i)
	fmt.Println("after Update:", changed, found, v)
	// Output:
	// before Update: false
	// after Update: true true 2
}
