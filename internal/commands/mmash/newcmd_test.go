package mmash

import (
	"testing"

	"github.com/mmstats/mmstats/internal/cli"
)

// TestNewCmdOptions checks flag parsing alone: runF receives the
// validated options, with their defaults filled in, and bad flags never
// reach it.
func TestNewCmdOptions(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MMSTATS_GLOB", "")
	streams, _, _ := cli.TestStreams()
	var got *Options
	cmd := NewCmd(streams, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"--dir", dir, "--listen", "127.0.0.1:0", "-v"})
	if code := cli.Main(cmd, streams.Err); code != 0 || got == nil {
		t.Fatalf("exit %d, options %v", code, got)
	}
	if got.Streams != streams || got.Dir != dir || got.Glob != "*.mmstats" || got.Listen != "127.0.0.1:0" || !got.Verbose || got.ctx == nil {
		t.Errorf("options %+v", *got)
	}
	for _, args := range [][]string{{"extra"}, {"--listen", "5002"}, {"--glob", "../x"}, {"--max-requests", "0"}} {
		got = nil
		cmd := NewCmd(streams, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(args)
		if code := cli.Main(cmd, streams.Err); code != cli.ExitUsage || got != nil {
			t.Errorf("%q: exit %d, ran %v", args, code, got != nil)
		}
	}
}
