//go:build !linux

package mmstats

import (
	"testing"
	"time"
)

// procDirect: where the process stats are the CPU time only (getrusage),
// the values test checks the runtime metrics alone.
func procDirect(t *testing.T, rt *runtimeStats) map[string]float64 { return nil }

// threadCPU: no per-thread CPU time here; the benchmark reports ns/op only.
func threadCPU() time.Duration { return 0 }
