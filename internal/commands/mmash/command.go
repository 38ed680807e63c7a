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
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/convention"
	"github.com/mmstats/mmstats/internal/prom"
)

const long = `mmash serves the stats in the mmstats files of one directory over HTTP:
the JSON API of the original mmash, a page of live values and plots, and
every numeric value for Prometheus.

  GET /                 the labels
  GET /graph/           numeric values combined over the files, with live
                        plots, and the values that are not combined
  GET /stats/           {"stats": [every label, sorted]}
  GET /stats/NAME       {label: value} for the labels that start with
                        NAME, each combined over the files by its own
                        policy; ?exact=1 for the label NAME only,
                        ?glob=GLOB to choose the files, ?aggr=A to combine
                        otherwise: avg, one, max, min, sum, nonzero-min or
                        nonzero-avg (the original's aggregators), policy
                        (the default), or list for {label: [value in each
                        file]} (what the original served with no aggr)
  GET /files/[GLOB]     {"files": [file names]}
  GET /metrics          the Prometheus text format (0.0.4), or protobuf

The directory is --dir, by default $MMSTATS_PATH or the temporary
directory, and requests that name no glob read the files that --glob
matches in it (default: the part of $MMSTATS_GLOB inside the directory, or
*.mmstats). A GLOB that a client sends is relative to the directory: one
that is absolute, contains "..", '%' or NUL, or names or matches a symlink
that leads outside the directory is refused with 400 (the default glob
just skips such symlinks), so no request reads a file outside it.
Symlinks that stay inside are followed. Files are named relative to the
directory, and only regular files are read. Values are JSON as
slurpstats --json prints them: exact integers, NaN and infinities as the
strings "NaN", "+Inf", "-Inf". An unknown aggregator, or one that fails
(avg of strings, nonzero-min of zeros), is a 400. The original's
aggregators apply to every label alike, as Python computed them: sum adds
timestamps and percentiles too. With no aggr (or aggr=policy) each
label is combined as the writer's metadata says (see pkg/aggregate):
counters and gauges sum (exactly), timestamps such as sys.created take the latest, a Histogram's
or Timer's percentiles (.p50 ... .p999) are those of all the files'
values together, from their merged buckets (within 0.54%), means are
weighted by their counts; labels that are not combined (sys.pid and
other info, values that are not all numbers) keep their list. Files
without metadata (Python's) sum, as before.

/graph/ combines the files by policy too, and says how for each row
(sum; max, min or latest and the file it came from; p99 of the merged
buckets; ...); a menu switches to one of the original's aggregators. Its
plots show counters as rates per second and timestamps as dates. The
values that are not combined are listed file by file.

On /metrics every numeric stat is a series named mmstats_ and the label
with each character outside [a-zA-Z0-9_] made '_' (web.stats.load is
mmstats_web_stats_load), labelled with the file's base name (file) and
its writer's PID (pid); booleans are 0 and 1, strings are left out. Stats
that the Go writer marks as counters or gauges get that # TYPE and their
unit as a suffix, and counters end in _total (web.stats.status.2XX is
mmstats_web_stats_status_2XX_total, web.stats.timers.request.max
mmstats_web_stats_timers_request_max_seconds); the others, and gauges
named like a counter or a histogram's parts (..._count, ..._sum), are
untyped. The
facts about a writer (sys.pid, sys.tid, sys.uid, sys.gid and the Go
writer's other info stats) are not series: they are the labels of one
mmstats_file_info series per file, of value 1.

A Timer's or Histogram's group is one Prometheus histogram per file,
named after its label and unit (web.stats.timers.request is
mmstats_web_stats_timers_request_seconds): _bucket{le="..."} at the
powers of two within the histogram's range (31 for a Timer's default
range, 2^-22 s to 256 s; the same for every file of a program, so that
they sum by le; exact counts, as each is a bound of the writer's
buckets), _sum and _count. Its percentiles, count, sum and moving average
are not series of their own; histogram_quantile(0.99, sum by (le)
(rate(..._bucket[5m]))) gives the p99 of all the files' values within
100% (it interpolates inside a bucket: a p99 of 9 ms may come out
anywhere between 8 and 16 ms). --classic-schema N puts 2^N bounds in
each power of two, for 2^(2^-N)-1: within 41% at 1, 19% at 2, 9.05% at 3,
at the cost of 2^N times the series (241 per Timer and file at 3) in
Prometheus and in every scrape. .min, .max and the time windows stay
gauges. A scraper
that asks for the protobuf format first (Prometheus with
--enable-feature=native-histograms) gets the same in that format, where
each histogram is also a native histogram at the writer's resolution
(schema 6, 64 buckets per power of two; values below the histogram's
range in the zero bucket, values above it in the bucket just above):
histogram_quantile(0.99, sum(rate(...[5m]))) is then within 1.09%.
promtool check metrics accepts the text, unless labels themselves are in
camelCase or name a type (x.counter). slurpstats -o prometheus writes the
same text for node_exporter's textfile collector.

With --aggregate, /metrics serves one series per stat over all the files
instead, without file and pid labels, each combined by its policy as
/stats combines it: counters summed, gauges summed or by their policy
(max, min, mean, latest), each histogram the merge of every file's
buckets; the info stats, which belong to one process, are left out. So a
prefork server whose workers come and go (exit and are folded into the
totals file, or are killed and folded by cleanstats) makes no series come
and go, and its counters never go back: sum(rate(...)) and
histogram_quantile(0.99, rate(..._bucket[5m])) need no sum by. A float
counter (seconds) that a different order of addition would put a bit
lower than its last value is served at its last value.

Every reading counts the totals files of the directory (the counters and
histograms of the writers that have exited, folded by the writers
themselves or by cleanstats) and the files of dead writers not folded
yet, and leaves out a file that a totals file already holds, so that a
sum over the files neither drops nor counts a file twice when a worker
exits or dies (/stats, /graph/, and both forms of /metrics, where the
totals file is one more file, without a pid).

mmash listens on 127.0.0.1:5002 unless told otherwise, prints one line
with its URL on stdout, and serves until SIGINT or SIGTERM. With
--verbose (-v) it logs each request on stderr: method, path, status and
duration.

Limits keep any client, or any file, from taking the machine: at most
--max-connections connections at once, each closed when its request line
and headers (or a body it announces) take longer than --read-timeout to
arrive, or when it idles longer than --idle-timeout. At most
--max-requests requests read files at once; a few times as many wait, up
to half of --timeout, and the others get 503 with Retry-After. Requests
for /metrics that arrive while one is being answered share its answer,
which is kept gzip-compressed (and sent so to clients that accept it).
What reading takes stays under about --max-memory: files are parsed one at
a time per request within half of it, and each running request may keep
its share of the other half for its answer (past it, 500). A file larger
than --max-file-size, or one whose fields alone need more than half of
--max-memory, is skipped and logged on stderr once. A GLOB may be at most
1024 bytes and 16 path elements long, match at most 250000 names and look
at 2000000 directory entries; it goes through a directory once however
many symlinks lead to it. Past these, 400 with the reason; a request URI
longer than 8192 bytes gets 414. When the directory is deleted and created
again, mmash serves the new one; while it is missing, requests get 503.
Each change is logged on stderr.`

const examples = `  # serve $MMSTATS_PATH (or /tmp) on http://127.0.0.1:5002/
  mmash

  # serve the demo's stats to the network (mind who can reach it)
  MMSTATS_PATH=/tmp/demo mmash --listen 0.0.0.0:5002

  # the sum over all processes of one counter
  curl 'http://127.0.0.1:5002/stats/web.stats.status.2XX?exact=1'

  # the p50 ... p999 of all the processes' requests together
  curl 'http://127.0.0.1:5002/stats/web.stats.timers.request.p'

  # the value in each file, as the original mmash answered
  curl 'http://127.0.0.1:5002/stats/web.stats.timers.request.p99?exact=1&aggr=list'

  # Prometheus: scrape mmash (prometheus.yml)
  scrape_configs:
    - job_name: mmstats
      scrape_interval: 15s
      static_configs:
        - targets: ['127.0.0.1:5002']

  # PromQL: the p99 of all the processes' requests over 5 minutes
  histogram_quantile(0.99, sum by (le) (rate(mmstats_web_stats_timers_request_seconds_bucket[5m])))

  # one series per stat for the whole directory: workers that come and
  # go make no series come and go
  mmash --aggregate

  # finer classic buckets: histogram_quantile within 9.05% instead of
  # 100%, for 241 series per Timer and file instead of 31
  mmash --classic-schema 3`

// Options are the settings of one mmash run.
type Options struct {
	// Streams: the URL goes to Out, the log to Err.
	Streams *cli.Streams
	// Listen is the HOST:PORT to serve on; port 0 picks a free port.
	Listen string
	// Dir is the stats directory; "" means $MMSTATS_PATH or the
	// temporary directory (convention.Dir).
	Dir string
	// Glob chooses the files of requests that name none, relative to
	// Dir; "" means the part of $MMSTATS_GLOB inside Dir, or *.mmstats.
	Glob string
	// Verbose logs each request on stderr.
	Verbose bool
	// Aggregate makes /metrics serve one series per stat over all the
	// files, combined by policy, without file or pid labels.
	Aggregate bool
	// MaxConnections is how many connections mmash holds at once.
	MaxConnections int
	// MaxRequests is how many requests read files at once.
	MaxRequests int
	// MaxMemory bounds what reading files takes, in bytes.
	MaxMemory ByteSize
	// MaxFileSize is the size of the largest file mmash reads.
	MaxFileSize ByteSize
	// Timeout is how long a request may take to be answered.
	Timeout time.Duration
	// ReadTimeout is how long a client may take to send a request.
	ReadTimeout time.Duration
	// IdleTimeout is how long a connection may wait for its next request.
	IdleTimeout time.Duration
	// ClassicSchema is the resolution of the classic buckets of the
	// histograms on /metrics (see prom.ClassicSchema).
	ClassicSchema prom.ClassicSchema

	// ctx is the command's context: Run serves until it ends, or until
	// SIGINT or SIGTERM. nil means context.Background().
	ctx context.Context
}

// AddFlags adds the command's flags, bound to o, with their defaults.
func (o *Options) AddFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	def := defaultConfig()
	o.MaxMemory, o.MaxFileSize = ByteSize(def.maxMemory), ByteSize(def.maxFileSize)
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:5002", "serve on `HOST:PORT` (port 0 picks a free port)")
	fs.StringVar(&o.Dir, "dir", "", "serve the stats files in `DIR` (default $MMSTATS_PATH, or the temporary directory)")
	fs.StringVar(&o.Glob, "glob", "", "read the files that `GLOB` matches in DIR when a request names none (default *.mmstats)")
	fs.BoolVarP(&o.Verbose, "verbose", "v", false, "log each request on stderr: method, path, status, duration")
	fs.BoolVar(&o.Aggregate, "aggregate", false, "serve on /metrics one series per stat over all the files, combined by policy, without file and pid labels")
	fs.IntVar(&o.MaxConnections, "max-connections", 256, "hold at most `N` connections at once; more wait to be accepted")
	fs.IntVar(&o.MaxRequests, "max-requests", def.maxRequests, "read files for at most `N` requests at once; a few more wait, the others get 503")
	fs.Var(&o.MaxMemory, "max-memory", "keep what reading files takes under about `SIZE` (K, M, G: powers of 1024)")
	fs.Var(&o.MaxFileSize, "max-file-size", "skip files larger than `SIZE`, with a line on stderr")
	fs.DurationVar(&o.Timeout, "timeout", def.timeout, "answer each request within `DURATION`, or give up with 503")
	fs.DurationVar(&o.ReadTimeout, "read-timeout", 10*time.Second, "close a connection whose request takes longer than `DURATION` to arrive")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", 2*time.Minute, "close a connection idle for longer than `DURATION`")
	o.ClassicSchema = prom.DefaultClassicSchema
	prom.AddClassicSchemaFlag(fs, &o.ClassicSchema)
}

// Validate fills in the defaults of Dir and Glob and checks the options;
// its errors are usage errors.
func (o *Options) Validate() error {
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return cli.UsageError("--listen: %v", err)
	}
	if o.Dir == "" {
		o.Dir = convention.Dir()
	}
	if o.Glob == "" {
		o.Glob = convention.Pattern
		if g := os.Getenv(convention.EnvGlob); g != "" {
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
	for _, c := range []struct {
		name string
		ok   bool
		want string
	}{
		{"--max-connections", o.MaxConnections >= 1, "at least 1"},
		{"--max-requests", o.MaxRequests >= 1, "at least 1"},
		{"--max-memory", o.MaxMemory >= 1<<20, "at least 1M"},
		{"--max-file-size", o.MaxFileSize >= 1, "at least 1"},
		{"--timeout", o.Timeout > 0, "more than 0"},
		{"--read-timeout", o.ReadTimeout > 0, "more than 0"},
		{"--idle-timeout", o.IdleTimeout > 0, "more than 0"},
	} {
		if !c.ok {
			return cli.UsageError("%s must be %s", c.name, c.want)
		}
	}
	return nil
}

// config returns the server configuration of the options, logging to log.
func (o *Options) config(log io.Writer) config {
	return config{
		maxFileSize: int64(o.MaxFileSize),
		maxMemory:   int64(o.MaxMemory),
		maxRequests: o.MaxRequests,
		timeout:     o.Timeout,
		log:         log,
		verbose:     o.Verbose,
		aggregate:   o.Aggregate,
		classic:     o.ClassicSchema,
	}
}

// ByteSize is a number of bytes as a flag: 1048576, 1024K, 1M, 1MiB, 1G.
type ByteSize int64

// String returns the size in the largest unit that divides it.
func (b *ByteSize) String() string {
	n := int64(*b)
	for _, u := range []string{"G", "M", "K"} {
		unit := int64(1) << (10 * (strings.Index("KMG", u) + 1))
		if n != 0 && n%unit == 0 {
			return strconv.FormatInt(n/unit, 10) + u
		}
	}
	return strconv.FormatInt(n, 10)
}

// Set parses a size.
func (b *ByteSize) Set(s string) error {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B"), "I")
	shift := 0
	if i := strings.Index("KMG", t[max(len(t)-1, 0):]); t != "" && i >= 0 {
		shift = 10 * (i + 1)
		t = t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)>>shift {
		return fmt.Errorf("%q is not a size such as 512M", s)
	}
	*b = ByteSize(n << shift)
	return nil
}

// Type names the flag's value in --help.
func (b *ByteSize) Type() string { return "size" }

// NewCmd returns the mmash command, writing to streams. It runs runF
// with the validated options, or Run if runF is nil.
func NewCmd(streams *cli.Streams, runF func(*Options) error) *cobra.Command {
	opts := &Options{Streams: streams}
	cmd := &cobra.Command{
		Use:     "mmash [--listen HOST:PORT] [--dir DIR] [--glob GLOB]",
		Short:   "Serve mmstats over HTTP: JSON, live plots and Prometheus metrics",
		Long:    long,
		Example: examples,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.ctx = cmd.Context()
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

// Run serves until SIGINT or SIGTERM, then shuts down gracefully. It
// prints its URL on opts.Streams.Out and logs on opts.Streams.Err.
func Run(opts *Options) error {
	ctx := opts.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	out, errw := opts.Streams.Out, opts.Streams.Err
	handler, err := newServerConfig(opts.Dir, opts.Glob, opts.config(errw))
	if err != nil {
		return err
	}
	defer handler.Close()
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return err
	}
	// The garbage collector keeps the heap near what the limits allow,
	// unless $GOMEMLIMIT says otherwise.
	if os.Getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(opts.MaxMemory) + 64<<20))
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: opts.ReadTimeout,
		// The whole request, body included: a client that announces a
		// body and stalls is cut after it, not held.
		ReadTimeout: opts.ReadTimeout,
		// Time to make the answer, then to send it.
		WriteTimeout:   opts.Timeout + 10*time.Second,
		IdleTimeout:    opts.IdleTimeout,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       log.New(errw, "mmash: ", 0),
	}
	fmt.Fprintf(out, "mmash: serving http://%s/ (stats: %s)\n", ln.Addr(), handler.pattern())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(newLimitListener(ln, opts.MaxConnections)) }()
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
