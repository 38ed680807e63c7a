package pollstats

import (
	"reflect"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
)

// TestNewCmdOptions checks flag parsing alone: runF receives the
// validated options, and bad flags never reach it.
func TestNewCmdOptions(t *testing.T) {
	streams, _, _ := cli.TestStreams()
	var got *Options
	cmd := NewCmd(streams, func(o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"-c", "3", "-d", "0.5", "-f", "web=1", "-n", "5", "-p", "web.stats", "-a", "-e", "-vv", "2XX, 5XX", "a", "b"})
	if code := cli.Main(cmd, streams.Err); code != 0 || got == nil {
		t.Fatalf("exit %d, options %v", code, got)
	}
	want := Options{Streams: streams, Fields: []string{"2XX", "5XX"}, Args: []string{"a", "b"}, Count: 3, Delay: 500 * time.Millisecond,
		Filters: []string{"web=1"}, Headers: 5, Prefix: "web.stats", Verbosity: 2, Absolute: true, Each: true}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("options %+v, want %+v", *got, want)
	}
	for _, args := range [][]string{{}, {"a,,b"}, {"-c", "-1", "x"}, {"-n", "-1", "x"}, {"-d", "0", "x"}, {"-f", "=1", "x"}} {
		got = nil
		cmd := NewCmd(streams, func(o *Options) error { got = o; return nil })
		cmd.SetArgs(args)
		if code := cli.Main(cmd, streams.Err); code != cli.ExitUsage || got != nil {
			t.Errorf("%q: exit %d, ran %v", args, code, got != nil)
		}
	}
}
