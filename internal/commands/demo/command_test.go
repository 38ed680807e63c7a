package demo

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
)

// execute runs the command with args and a run function that records the
// options instead of serving.
func execute(args ...string) (opts *Options, stdout string, err error) {
	streams, out, _ := cli.TestStreams()
	cmd := NewCmd(streams, func(o *Options) error {
		opts = o
		return nil
	})
	cmd.SetArgs(args)
	err = cmd.Execute()
	return opts, out.String(), err
}

func TestFlagValidation(t *testing.T) {
	tests := [][]string{
		{"--workers", "0"},
		{"--workers", "-2"},
		{"--workers", "65"},
		{"--rate", "0"},
		{"--rate", "-5"},
		{"--rate", "NaN"},
		{"--rate", "+Inf"},
		{"--duration", "-1s"},
		{"--max-requests", "-1"},
		{"--max-requests", "1.5"},
		{"--duration", "soon"},
		{"--listen", "5001"},
		{"--no-such-flag"},
		{"extra-argument"},
		{"--workers", "abc"},
		{"--worker", "3"}, // a typo: no hidden flag takes it
		{"--worker"},
		{"-v", "x"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			opts, _, err := execute(args...)
			var exit *cli.ExitError
			if !errors.As(err, &exit) || exit.Code != cli.ExitUsage {
				t.Fatalf("error %v, want exit status %d", err, cli.ExitUsage)
			}
			if opts != nil {
				t.Error("the command ran despite bad flags")
			}
		})
	}
}

func TestFlags(t *testing.T) {
	opts, _, err := execute()
	if err != nil {
		t.Fatal(err)
	}
	want := Options{Streams: opts.Streams, Listen: "127.0.0.1:5001", Workers: 1, Rate: 200}
	if *opts != want {
		t.Errorf("defaults = %+v, want %+v", *opts, want)
	}
	host, _, _ := net.SplitHostPort(opts.Listen)
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		t.Errorf("default --listen %q is not a loopback address", opts.Listen)
	}

	opts, _, err = execute("--workers", "3", "--load", "--rate", "12.5", "--duration", "2s", "--listen", "127.0.0.1:0", "--max-requests", "200", "-vv")
	if err != nil {
		t.Fatal(err)
	}
	want = Options{Streams: opts.Streams, Listen: "127.0.0.1:0", Workers: 3, Load: true, Rate: 12.5, Duration: 2 * time.Second, MaxRequests: 200, Verbose: 2}
	if *opts != want {
		t.Errorf("parsed %+v, want %+v", *opts, want)
	}
	if got := workerArgs(opts); strings.Join(got, " ") != "--rate=12.5 --load --max-requests=200 --verbose=2" {
		t.Errorf("worker arguments %q", got)
	}
	if back, _, err := execute(workerArgs(opts)...); err != nil || !back.Load || back.Rate != 12.5 || back.MaxRequests != 200 || back.Verbose != 2 {
		t.Errorf("worker arguments parse back as %+v, %v", back, err)
	}
	if opts, _, err = execute("--verbose"); err != nil || opts.Verbose != 1 {
		t.Errorf("--verbose parsed as %+v, %v", opts, err)
	}
}

// TestUsageErrorsInWords checks the messages of the flag typos a user
// makes: no internal flag and no Go parser error shows through.
func TestUsageErrorsInWords(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--workers", "abc"}, `--workers must be a whole number, got "abc"`},
		{[]string{"--worker", "3"}, "unknown flag: --worker"},
		{[]string{"--rate", "fast"}, `--rate must be a number, got "fast"`},
	}
	for _, tt := range tests {
		_, _, err := execute(tt.args...)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: error %v, want %q", tt.args, err, tt.want)
		}
	}
}

func TestIsWorker(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"", false},
		{strconv.Itoa(os.Getppid()), true},
		{strconv.Itoa(os.Getpid()), false}, // the supervisor's own variable, seen by itself
		{"1x", false},
	}
	for _, tt := range tests {
		t.Setenv(workerEnv, tt.value)
		if got := isWorker(); got != tt.want {
			t.Errorf("%s=%q: isWorker() = %v, want %v", workerEnv, tt.value, got, tt.want)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	_, out, err := execute("--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Examples:", "--workers", "--load", "--rate", "--duration", "--listen", "/status", "--max-requests 200"} {
		if !strings.Contains(out, s) {
			t.Errorf("--help lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "--worker ") || strings.Contains(out, workerEnv) {
		t.Errorf("--help shows an internal flag or variable:\n%s", out)
	}
	_, out, err = execute("--version")
	if err != nil || !strings.HasPrefix(out, "mmstats-demo ") {
		t.Errorf("--version printed %q, %v", out, err)
	}
}
