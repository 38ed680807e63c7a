package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// latencyWriterEnv makes the test binary a latency writer process:
// "DIR INDEX" (see runLatencyWriter).
const latencyWriterEnv = "MMASH_TEST_LATENCY_WRITER"

// latencyWriters is the number of writer processes, each with its own
// distribution.
const latencyWriters = 4

// latencies returns writer i's durations: a different distribution per
// writer, and a different number of them, from a fixed seed, so that the
// test knows every value the writers observe.
func latencies(i int) []time.Duration {
	rng := rand.New(rand.NewPCG(uint64(i), 13))
	logn := func(median, sigma float64) float64 { return median * math.Exp(sigma*rng.NormFloat64()) }
	n := []int{40_000, 20_000, 30_000, 10_003}[i]
	out := make([]time.Duration, n)
	for k := range out {
		var s float64
		switch i {
		case 0: // fast and tight: log-normal around 2 ms
			s = logn(0.002, 0.5)
		case 1: // slow, with a long tail: log-normal around 20 ms
			s = logn(0.020, 1)
		case 2: // uniform from 1 to 50 ms
			s = 0.001 + 0.049*rng.Float64()
		default: // cache hits around 1 ms, 10% misses around 200 ms
			if rng.Float64() < 0.9 {
				s = logn(0.001, 0.3)
			} else {
				s = logn(0.2, 0.2)
			}
		}
		out[k] = time.Duration(s * 1e9)
	}
	return out
}

// seconds is what a Timer records of d: float64(d)/1e9.
func seconds(d time.Duration) float64 { return float64(d) / 1e9 }

// runLatencyWriter is a writer process: it publishes a Timer "lat" in
// DIR/latINDEX.mmstats and prints the file's path; on the line "observe"
// on stdin it observes writer INDEX's durations, publishes them and
// prints "observed"; when stdin closes it removes the file and exits.
func runLatencyWriter(arg string) int {
	dir, idx, _ := strings.Cut(arg, " ")
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 || i >= latencyWriters {
		fmt.Fprintf(os.Stderr, "%s=%q: want DIR INDEX\n", latencyWriterEnv, arg)
		return 2
	}
	var m struct {
		Lat mmstats.Timer `mmstats:"lat,windows=none"`
	}
	f, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: fmt.Sprintf("lat%d.mmstats", i)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(f.Path())
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		if in.Text() == "observe" {
			for _, d := range latencies(i) {
				m.Lat.Observe(d)
			}
			f.Refresh()
			fmt.Println("observed")
		}
	}
	io.Copy(io.Discard, os.Stdin)
	if err := f.Remove(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
