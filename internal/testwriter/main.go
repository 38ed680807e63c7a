// Command testwriter is a writer process for the end-to-end tests: it
// creates one stats file with every field type set to known values, prints
// the file's path, and waits until stdin closes or it gets SIGTERM or
// SIGINT, then removes the file (unless -keep).
//
//	testwriter -dir DIR [-prefix P] [-name NAME] [-keep] [-counter N] [-increments N]
//
// With -increments N it first increments every.counter N times, one
// Inc at a time, while readers may watch: the path is printed once the
// increments are done, so it also says "finished counting".
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// Every is a model with one field of every type.
type Every struct {
	Counter   mmstats.Counter       `mmstats:"every.counter"`
	Average   mmstats.Average       `mmstats:"every.average"`
	Moving    mmstats.MovingAverage `mmstats:"every.moving,window=3"`
	Timer     mmstats.Timer         `mmstats:"every.timer"`
	Bool      mmstats.Bool          `mmstats:"every.bool"`
	Byte      mmstats.Int8          `mmstats:"every.byte"`
	Short     mmstats.Int16         `mmstats:"every.short"`
	UShort    mmstats.Uint16        `mmstats:"every.ushort"`
	Int       mmstats.Int32         `mmstats:"every.int"`
	UInt      mmstats.Uint32        `mmstats:"every.uint"`
	UInt64    mmstats.Uint64        `mmstats:"every.uint64"`
	Float     mmstats.Float32       `mmstats:"every.float"`
	Double    mmstats.Float64       `mmstats:"every.double"`
	String    mmstats.String        `mmstats:"every.string"`
	Short16   mmstats.String        `mmstats:"every.string16,size=16"`
	SUInt     mmstats.StaticUint32  `mmstats:"every.static_uint"`
	SInt64    mmstats.StaticInt64   `mmstats:"every.static_int64"`
	SUInt64   mmstats.StaticUint64  `mmstats:"every.static_uint64"`
	SFloat    mmstats.StaticFloat32 `mmstats:"every.static_float"`
	SDouble   mmstats.StaticFloat64 `mmstats:"every.static_double"`
	SText     mmstats.StaticText    `mmstats:"every.static_text"`
	Unlabeled mmstats.Counter
	// Beyond 0.8.0: a histogram (a group of stats), a counter with rate
	// windows, and explicit kinds and units.
	Hist  mmstats.Histogram `mmstats:"every.histogram,unit=bytes,windows=10s"`
	Rated mmstats.Counter   `mmstats:"every.rated,windows=10s|1m"`
	Stamp mmstats.Float64   `mmstats:"every.stamp,kind=timestamp,unit=seconds"`
	Temp  mmstats.Float32   `mmstats:"every.temperature,unit=celsius"`
	// Beyond 0.8.0 too: a histogram with its own range (its buckets in
	// the pad bytes of every.latency.count), and gauges with explicit
	// aggregation policies (metadata version 2).
	Latency mmstats.Histogram `mmstats:"every.latency,unit=seconds,range=0.0001:10,windows=none"`
	Peak    mmstats.Int32     `mmstats:"every.peak,aggr=max"`
	Low     mmstats.Float64   `mmstats:"every.low,aggr=min"`
	Last    mmstats.Uint64    `mmstats:"every.last,aggr=latest"`
	Mean    mmstats.Float32   `mmstats:"every.mean,aggr=avg"`
	Mine    mmstats.Uint32    `mmstats:"every.mine,aggr=none"`
}

func main() {
	dir := flag.String("dir", "", "directory for the file (default: MMSTATS_PATH)")
	prefix := flag.String("prefix", "", "label prefix")
	name := flag.String("name", "", "file name template (default: MMSTATS_FILES)")
	keep := flag.Bool("keep", false, "leave the file in place on exit")
	counter := flag.Uint64("counter", 42, "value of every.counter")
	increments := flag.Uint64("increments", 0, "increment every.counter this many times more before printing the path (load tests)")
	flag.Parse()

	var s Every
	s.SUInt.Set(4000000000)
	s.SInt64.Set(-42)
	s.SUInt64.Set(1 << 63)
	s.SFloat.Set(2.5)
	s.SDouble.Set(-0.001)
	s.SText.Set("static text")
	f, err := mmstats.New(&s, mmstats.Options{Dir: *dir, Filename: *name, LabelPrefix: *prefix})
	if err != nil {
		fmt.Fprintln(os.Stderr, "testwriter:", err)
		os.Exit(1)
	}
	s.Counter.Add(*counter)
	s.Average.Observe(10)
	s.Average.Observe(50)
	for _, v := range []float64{1, 2, 3, 4} {
		s.Moving.Observe(v)
	}
	s.Timer.Observe(1500 * time.Millisecond)
	s.Bool.Set(true)
	s.Byte.Set(-5)
	s.Short.Set(-1234)
	s.UShort.Set(54321)
	s.Int.Set(-100000)
	s.UInt.Set(3000000000)
	s.UInt64.Set(1099511627783)
	s.Float.Set(0.1)
	s.Double.Set(3.14159)
	s.String.Set("hello, world")
	s.Short16.Set("ünïcödé and more")
	s.Unlabeled.Add(7)
	for _, v := range []float64{100, 200, 300, 400} {
		s.Hist.Observe(v)
	}
	s.Rated.Add(5)
	s.Stamp.Set(1795635079.5)
	s.Temp.Set(21.5)
	for _, v := range []float64{0.00005, 0.002, 0.003, 0.25, 20} { // below, in and above the range
		s.Latency.Observe(v)
	}
	s.Peak.Set(-7)
	s.Low.Set(0.125)
	s.Last.Set(1 << 40)
	s.Mean.Set(2.5)
	s.Mine.Set(4242)
	for range *increments {
		s.Counter.Inc()
	}
	f.Refresh() // publish the derived stats now
	fmt.Println(f.Path())

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-sigs:
	case <-eof:
	}
	if *keep {
		f.Close()
		return
	}
	if err := f.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, "testwriter:", err)
		os.Exit(1)
	}
}
