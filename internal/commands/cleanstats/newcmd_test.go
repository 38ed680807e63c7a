package cleanstats

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
	cmd.SetArgs([]string{"-n", "-v", "--json", "/var/run/app"})
	if code := cli.Main(cmd, streams.Err); code != 0 || got == nil {
		t.Fatalf("exit %d, options %v", code, got)
	}
	if got.Streams != streams || !got.DryRun || !got.Verbose || !got.JSON || got.Quiet || !reflect.DeepEqual(got.Args, []string{"/var/run/app"}) {
		t.Errorf("options %+v", *got)
	}
	for _, args := range [][]string{{"-q", "-v"}, {"-q", "--json"}, {"--nope"}} {
		got = nil
		cmd := NewCmd(streams, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(args)
		if code := cli.Main(cmd, streams.Err); code != cli.ExitUsage || got != nil {
			t.Errorf("%q: exit %d, ran %v", args, code, got != nil)
		}
	}
}
