package testutil

import (
	"math"
	"math/rand/v2"
	"time"
)

// Latencies returns n durations of writer i's distribution, from seed,
// for the tests that merge histograms across writers: one of five
// distributions by i%5 (fast and tight; slow with a long tail; uniform;
// exponential after a floor; two modes, cache hits and misses).
func Latencies(i int, seed uint64, n int) []time.Duration {
	rng := rand.New(rand.NewPCG(uint64(i), seed))
	logn := func(median, sigma float64) float64 { return median * math.Exp(sigma*rng.NormFloat64()) }
	out := make([]time.Duration, n)
	for k := range out {
		var s float64
		switch i % 5 {
		case 0: // fast and tight
			s = logn(0.002, 0.5)
		case 1: // slow with a long tail
			s = logn(0.020, 1)
		case 2: // uniform
			s = 0.001 + 0.049*rng.Float64()
		case 3: // exponential after a floor
			s = 0.0005 + 0.005*rng.ExpFloat64()
		default: // two modes: cache hits and misses
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

// Sizes returns n sizes in bytes of writer i's distribution, from seed:
// log-normal, a median of e^(3+i).
func Sizes(i int, seed uint64, n int) []float64 {
	rng := rand.New(rand.NewPCG(uint64(i), seed))
	out := make([]float64, n)
	for k := range out {
		out[k] = math.Floor(math.Exp(float64(3+i) + 1.5*rng.NormFloat64()))
	}
	return out
}
