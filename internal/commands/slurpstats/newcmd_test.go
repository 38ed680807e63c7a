package slurpstats

import (
	"reflect"
	"testing"

	"github.com/mmstats/mmstats/internal/cli"
)

// TestNewCmdOptions checks flag parsing alone: runF receives the
// validated options, and bad flags never reach it.
func TestNewCmdOptions(t *testing.T) {
	streams, _, _ := cli.TestStreams()
	var got *Options
	cmd := NewCmd(streams, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"-f", "web.*", "--field", "db.*", "--format", "table", "-H", "-v", "-t", "a", "b"})
	if code := cli.Main(cmd, streams.Err); code != 0 || got == nil {
		t.Fatalf("exit %d, options %v", code, got)
	}
	if got.Streams != streams || !reflect.DeepEqual(got.Fields, []string{"web.*", "db.*"}) || got.Output != FormatTable ||
		!got.Human || !got.Verbose || !got.Total || got.JSON || !reflect.DeepEqual(got.Args, []string{"a", "b"}) {
		t.Errorf("options %+v", *got)
	}
	for _, args := range [][]string{{"-f", "["}, {"--json", "-o", "text"}, {"-o", "yaml"}, {"--total", "-o", "prometheus"}} {
		got = nil
		cmd := NewCmd(streams, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(args)
		if code := cli.Main(cmd, streams.Err); code != cli.ExitUsage || got != nil {
			t.Errorf("%q: exit %d, ran %v", args, code, got != nil)
		}
	}
}
