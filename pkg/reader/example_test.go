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
