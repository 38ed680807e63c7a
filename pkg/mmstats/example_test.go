package mmstats_test

import (
	"fmt"
	"os"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// WebStats is the model of the Python documentation, in Go.
type WebStats struct {
	Status2XX mmstats.Counter `mmstats:"status.2XX"`
	Status5XX mmstats.Counter `mmstats:"status.5XX"`
	LastHit   mmstats.Float64 `mmstats:"timers.last_hit"`
	Request   mmstats.Timer   `mmstats:"timers.request"`
}

func ExampleNew() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	var stats WebStats
	f, err := mmstats.New(&stats, mmstats.Options{Dir: dir, LabelPrefix: "web.stats."})
	if err != nil {
		panic(err)
	}
	defer f.Remove()

	stats.Status2XX.Inc()
	stats.LastHit.Set(float64(time.Now().Unix()))
	stats.Request.Observe(15 * time.Millisecond)
	fmt.Println(stats.Status2XX.Value(), stats.Request.Value())
	// Output: 1 0.015
}

func ExampleFile_Add() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	f, err := mmstats.New(nil, mmstats.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer f.Remove()

	// Fields can be added at any time; readers see each appear whole.
	var queue mmstats.Uint64
	status := mmstats.String{Size: 32}
	if err := f.Add("queue.depth", &queue); err != nil {
		panic(err)
	}
	if err := f.Add("status", &status); err != nil {
		panic(err)
	}
	queue.Set(12)
	status.Set("draining")
	fmt.Println(queue.Value(), status.Value())
	// Output: 12 draining
}

func ExampleTimer() {
	var t mmstats.Timer // usable before it is in a file
	sw := t.Start()
	time.Sleep(time.Millisecond)
	d := sw.Stop()
	fmt.Println(d >= time.Millisecond, t.Last() == d)
	// Output: true true
}
