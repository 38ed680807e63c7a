// Package mmash is the mmash command: an HTTP server that publishes the
// stats of one directory's mmstats files as the JSON API of the original
// mmash, as pages with live plots, and as Prometheus metrics. It only
// reads, and only files inside that directory.
package mmash

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/reader"
)

const long = `mmash serves the stats in the mmstats files of one directory over HTTP:
the JSON API of the original mmash, a page of live values and plots, and
every numeric value for Prometheus.

  GET /                 the labels
  GET /graph/           string values, and numeric values with live plots
  GET /stats/           {"stats": [every label, sorted]}
  GET /stats/NAME       {label: [value in each file]} for the labels that
                        start with NAME; ?exact=1 for the label NAME only,
                        ?glob=GLOB to choose the files, ?aggr=A to reduce
                        each list to one value: avg, one, max, min, sum,
                        nonzero-min or nonzero-avg
  GET /files/[GLOB]     {"files": [file names]}
  GET /metrics          the Prometheus text format (0.0.4)

The directory is --dir, by default $MMSTATS_PATH or the temporary
directory, and requests that name no glob read the files that --glob
matches in it (default: the part of $MMSTATS_GLOB inside the directory, or
*.mmstats). A GLOB that a client sends is relative to the directory: one
that is absolute, contains "..", '%' or NUL, or names or matches a symlink
that leads outside the directory is refused with 400 (the default glob
just skips such symlinks), so no request reads a file outside it.
Symlinks that stay inside are followed. Files are named relative to the
directory, and only regular files are read. Values are JSON as slurpstats --json prints
them: exact integers, NaN and infinities as the strings "NaN", "+Inf",
"-Inf". An unknown aggregator, or one that fails (avg of strings,
nonzero-min of zeros), is a 400.

On /metrics every numeric stat is a series named mmstats_ and the label
with each character outside [a-zA-Z0-9_] made '_' (web.stats.status.2XX
is mmstats_web_stats_status_2XX), labelled with the file's base name
(file) and its writer's PID (pid); booleans are 0 and 1, strings are left
out. Stats that the Go writer marks as counters or gauges get that # TYPE
and their unit as a suffix (web.stats.timers.request.p99 is
mmstats_web_stats_timers_request_p99_seconds); the others are untyped.
slurpstats -o prometheus writes the same for node_exporter's textfile
collector.

mmash listens on 127.0.0.1:5002 unless told otherwise, prints one line
with its URL on stdout, and serves until SIGINT or SIGTERM.`

const examples = `  # serve $MMSTATS_PATH (or /tmp) on http://127.0.0.1:5002/
  mmash

  # serve the demo's stats to the network (mind who can reach it)
  MMSTATS_PATH=/tmp/demo mmash --listen 0.0.0.0:5002

  # the sum over all processes of one counter
  curl 'http://127.0.0.1:5002/stats/web.stats.status.2XX?exact=1&aggr=sum'

  # Prometheus: scrape mmash (prometheus.yml)
  scrape_configs:
    - job_name: mmstats
      scrape_interval: 15s
      static_configs:
        - targets: ['127.0.0.1:5002']`

// Options are the flags of mmash.
type Options struct {
	// Listen is the HOST:PORT to serve on; port 0 picks a free port.
	Listen string
	// Dir is the stats directory; "" means reader.DefaultPath().
	Dir string
	// Glob chooses the files of requests that name none, relative to
	// Dir; "" means the part of $MMSTATS_GLOB inside Dir, or *.mmstats.
	Glob string
}

// AddFlags registers the options as flags of fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:5002", "serve on `HOST:PORT` (port 0 picks a free port)")
	fs.StringVar(&o.Dir, "dir", "", "serve the stats files in `DIR` (default $MMSTATS_PATH, or the temporary directory)")
	fs.StringVar(&o.Glob, "glob", "", "read the files that `GLOB` matches in DIR when a request names none (default *.mmstats)")
}

// resolve fills in the defaults of Dir and Glob and checks the options;
// its errors are usage errors.
func (o *Options) resolve() error {
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return cli.UsageError("--listen: %v", err)
	}
	if o.Dir == "" {
		o.Dir = reader.DefaultPath()
	}
	if o.Glob == "" {
		o.Glob = "*.mmstats"
		if g := os.Getenv("MMSTATS_GLOB"); g != "" {
			rel, err := filepath.Rel(filepath.Clean(o.Dir), filepath.Clean(g))
			if err != nil || !filepath.IsAbs(g) || rel == ".." || strings.HasPrefix(rel, "../") {
				return cli.UsageError("$MMSTATS_GLOB (%s) is not inside the stats directory %s: use --dir and --glob", g, o.Dir)
			}
			o.Glob = filepath.ToSlash(rel)
		}
	}
	if err := checkGlob(o.Glob); err != nil {
		return cli.UsageError("--glob %q: %v", o.Glob, err)
	}
	return nil
}

// NewCommand returns the mmash command.
func NewCommand(streams *cli.Streams) *cobra.Command {
	return newCommand(streams, run)
}

// newCommand builds the command with runF as its run function, so tests
// can check the options without starting a server.
func newCommand(streams *cli.Streams, runF func(context.Context, *Options, io.Writer) error) *cobra.Command {
	opts := &Options{}
	cmd := &cobra.Command{
		Use:     "mmash [--listen HOST:PORT] [--dir DIR] [--glob GLOB]",
		Short:   "Serve mmstats over HTTP: JSON, live plots and Prometheus metrics",
		Long:    long,
		Example: examples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.resolve(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runF(ctx, opts, cmd.OutOrStdout())
		},
	}
	opts.AddFlags(cmd.Flags())
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.Err)
	return cli.Setup(cmd)
}

// run serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, opts *Options, out io.Writer) error {
	handler, err := newServer(opts.Dir, opts.Glob)
	if err != nil {
		return err
	}
	defer handler.Close()
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(out, "mmash: serving http://%s/ (stats: %s)\n", ln.Addr(), handler.pattern())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		// Requests still running after the grace period are cut.
		srv.Close()
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
	}
	return nil
}
