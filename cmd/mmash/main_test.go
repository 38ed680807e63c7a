package main

import (
	"os"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
)

// TestMain runs the test binary as a latency writer when asked to (see
// runLatencyWriter), and otherwise runs the tests and removes the
// binaries that testutil.Binary built.
func TestMain(m *testing.M) {
	if arg := os.Getenv(latencyWriterEnv); arg != "" {
		os.Exit(runLatencyWriter(arg))
	}
	testutil.Main(m)
}
