// Package demo is the mmstats-demo command: the WebStats example of the
// mmstats documentation as a running web server. A supervisor listens on
// one socket and runs worker processes that share it, as gunicorn does;
// each worker counts its responses in its own stats file and can drive
// traffic at the server so that the numbers move.
package demo

import (
	"fmt"
	"math"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mmstats/mmstats/internal/cli"
)

// maxWorkers bounds --workers: each worker is a process.
const maxWorkers = 64

// Options are the settings of one mmstats-demo run.
type Options struct {
	// Streams: the start line goes to Out, reports to Err.
	Streams *cli.Streams
	// Listen is the HOST:PORT to listen on; port 0 picks a free port.
	Listen string
	// Workers is how many worker processes share the socket.
	Workers int
	// Load makes each worker send requests to the server.
	Load bool
	// Rate is the load of each worker, in requests per second.
	Rate float64
	// Duration is how long to run; 0 means until interrupted.
	Duration time.Duration
	// MaxRequests makes a worker exit cleanly, its file folded into the
	// totals, once it has answered that many requests, and the supervisor
	// start another (gunicorn's max_requests); 0 means never.
	MaxRequests int
	// Verbose reports on stderr: 1 the workers starting, exiting and
	// stopping, 2 also every request.
	Verbose int
}

// AddFlags adds the command's flags, bound to o.
func (o *Options) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:5001", "serve on `HOST:PORT` (port 0 picks a free port)")
	fs.IntVar(&o.Workers, "workers", 1, "run `N` worker processes sharing the socket")
	fs.BoolVar(&o.Load, "load", false, "make each worker send requests to the server")
	fs.Float64Var(&o.Rate, "rate", 200, "with --load, `R` requests per second per worker")
	fs.DurationVar(&o.Duration, "duration", 0, "exit after `D`, such as 20s (default: run until interrupted)")
	fs.IntVar(&o.MaxRequests, "max-requests", 0, "recycle each worker after it has answered `N` requests (default 0: never)")
	fs.CountVarP(&o.Verbose, "verbose", "v", "report on stderr: -v workers starting and exiting, -vv every request")
}

// Validate checks the options; its errors are usage errors.
func (o *Options) Validate() error {
	if o.Workers < 1 || o.Workers > maxWorkers {
		return cli.UsageError("--workers must be between 1 and %d, got %d", maxWorkers, o.Workers)
	}
	if !(o.Rate > 0) || math.IsInf(o.Rate, 0) {
		return cli.UsageError("--rate must be a positive number of requests per second, got %v", o.Rate)
	}
	if o.MaxRequests < 0 {
		return cli.UsageError("--max-requests must not be negative, got %d", o.MaxRequests)
	}
	if o.Duration < 0 {
		return cli.UsageError("--duration must not be negative, got %v", o.Duration)
	}
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return cli.UsageError("--listen: %v", err)
	}
	return nil
}

// NewCmd returns the mmstats-demo command, writing to streams. It runs
// runF with the validated options, or Run if runF is nil.
func NewCmd(streams *cli.Streams, runF func(*Options) error) *cobra.Command {
	opts := &Options{Streams: streams}
	cmd := &cobra.Command{
		Use:   "mmstats-demo [flags]",
		Short: "Run the WebStats example: a web server that writes mmstats",
		Long: `mmstats-demo runs the WebStats example of the mmstats documentation: an
HTTP server whose workers count their responses by status class in
memory-mapped stats files, one per worker, in MMSTATS_PATH.

Routes: / answers 200, /500 answers 500, /redirect answers 302, /status
shows the answering worker's stats, and any other path answers 404.
With --load, each worker also requests them all, so every counter moves.

On start it prints one line on stdout with the URL, the stats directory
and the workers' PIDs. A worker that dies (kill -9, a crash) is replaced
by a new one, with one line on stderr; its file stays until cleanstats
folds it into the directory's totals file and removes it. Workers that
die within a second of starting are replaced after a pause that doubles
each time, up to 10s.

With --max-requests N, each worker exits cleanly once it has answered N
requests, as with gunicorn's max_requests: it stops accepting, finishes
the requests in flight (so it may answer a few more than N), folds its
counts into the totals file (mmstats-demo-totals.mmstats) and removes its
file; the supervisor starts a new worker at once. The totals that the
tools show (slurpstats --total, pollstats, mmash) do not drop when a
worker leaves. -v reports each such recycling.

SIGINT or SIGTERM stops the workers, which fold and remove their files,
and it exits 0.`,
		Example: `  # Serve on 127.0.0.1:5001 until interrupted
  mmstats-demo

  # Four workers with traffic, for 20 seconds
  MMSTATS_PATH=/tmp/demo mmstats-demo --workers 4 --load --duration 20s

  # Then, in another terminal
  curl http://127.0.0.1:5001/status
  slurpstats /tmp/demo

  # Recycle each worker after 200 requests: the totals keep counting
  MMSTATS_PATH=/tmp/demo mmstats-demo --workers 4 --load --max-requests 200 &
  slurpstats --total -f 'web.stats.status.*' /tmp/demo`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := opts.Validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return Run(opts)
		},
	}
	opts.AddFlags(cmd)
	return cli.Command(cmd, streams)
}

// Run runs a worker, in a process the supervisor started (see isWorker),
// or the supervisor.
func Run(opts *Options) error {
	if isWorker() {
		err := runWorker(opts, opts.Streams.Err)
		if err != nil && err != errNotWorker {
			// Workers share the supervisor's stderr: say which one failed.
			err = fmt.Errorf("worker %d: %w", os.Getpid(), err)
		}
		return err
	}
	return supervise(opts, opts.Streams.Out, opts.Streams.Err)
}

// plural returns "n word" or "n words".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
