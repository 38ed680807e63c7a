//go:build !linux

package mmstats

import "testing"

// procDirect: where the process stats are the CPU time only (getrusage),
// the values test checks the runtime metrics alone.
func procDirect(t *testing.T, rt *runtimeStats) map[string]float64 { return nil }
