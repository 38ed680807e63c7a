// Package pollstats implements the pollstats command: a vmstat-like live
// view of some fields of many mmstats files, one line per interval, each
// column one field combined over every file by its aggregation policy
// (package aggregate), or with --each a row per file.
package pollstats

import (
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mmstats/mmstats/internal/cli"
)

const long = `Print one line per interval with, for each field, its value over every
stats file: the change of a counter since the previous line, summed over
the files, and the value of a gauge combined over the files as its writer
says: a vmstat for mmstats.

FIELDS is a comma-separated list of labels. With -p PREFIX, each field is
looked up as PREFIX+FIELD or, if no file has that label, as
PREFIX.FIELD, so "-p web.stats.status 2XX" and "-p web.stats.status. 2XX"
both show web.stats.status.2XX. The header shows the fields as given,
without the prefix.

pollstats reads the files once at start, prints the header, and prints the
first line after one delay (-d): it covers that first interval, not the
totals since the processes began. With a delay of whole seconds the
lines fall on the half second of the clock (the first one delay after
the start, give or take half a second), half way between the Go
writer's refreshes of its computed values, which fall on the second:
each line then spans exactly as many refreshes as it has seconds,
rather than one more or one less in turn.

Deltas are taken per file and then summed, so a file that goes away, or
whose value goes backwards (its process restarted), counts nothing for
that interval rather than a negative number. A field that its writer marks as a gauge (the Go
writer's gauges, averages, percentiles, rates and timestamps; see "kinds"
in the README) shows its current value instead, and --absolute does that
for every field. A bool field shows the number of files in which it is
true.

The files' values combine by each field's aggregation policy, kept in the
Go writer's field metadata (see "policies" in the README), the same rules
as slurpstats --total and mmash: counters and most gauges add up; a gauge
can take the max, min, mean or latest value instead; a histogram's
percentiles (.p50, .p99...) are computed again each interval from the
merged buckets of every file, so they are those of all the files' values
together, within 0.54%, not a sum of percentiles; its moving average is
the files' mean weighted by their counts; a timestamp shows the latest;
an info field (a PID) shows its value only where every file has the same,
else "-" (-v says why). Fields without that metadata, such as the Python
writer's, count as counters and add up, as they always did.

With --each (-e), each interval prints a row per file instead, sorted by
the PID of its writer (sys.pid) that starts the row under the header
"pid": the view of one process, like jstat or varnishstat, for each. On a
terminal, a blank line separates the intervals; -n counts intervals.

With --view VIEW, pollstats shows a preset set of columns instead of
FIELDS, jstat-like, computed from the Go runtime's stats that a Go
writer publishes with mmstats.Options{Runtime: true} (mmstats-demo's
workers do): gc (GC cycles and CPU share, pause p99, live heap and goal,
allocation rate, goroutines, CPU%), sched (goroutines runnable and
waiting, created, scheduling latency p50 and p99, GOMAXPROCS, threads,
CPU%) and mem (resident size, the heap by class, goal, GOMEMLIMIT,
allocation rate); --view list lists their columns and the labels they
read. A view's labels are found under each file's own prefix (that of
its sys.pid), and its columns combine over the files as FIELDS do, or
show each process with --each. Rates are per second of the interval,
CPU% counts 100% per CPU, and values carry units (445KiB, 12.3MiB,
1.17ms, 25.0%), piped too. Percentiles are of the values since each
process started. The runtime's stats are refreshed every second, on the
second, so delays below 1 s show 0 and twice the rate in turn. Files without
runtime stats are left out (-v names them); a column that no file has
(an older Go, a system without /proc) shows "-". A view takes no
FIELDS, -p, -f or -a, and needs at least one file with runtime stats.

With no FILE argument pollstats reads the files that $MMSTATS_GLOB matches
(default: $MMSTATS_PATH/*.mmstats). A DIR argument means the *.mmstats
files in it, and a quoted glob is expanded by pollstats itself. For those
the set of files is looked at again every interval: a process that starts
later joins, counted from its start (its file's sys.created; a file
without one, or created before pollstats started, counts from when it
is first seen), and one that exits leaves. A plain list of files stays
fixed, though a file in it that is removed drops out and one that comes
back is read again.

A totals file (the counters of the writers that are gone, folded into
it by their own exit or by cleanstats) counts like the others, and a
file it holds (listed in its sys.folded) is left out: its values are in
the totals. A dead writer's file not folded yet still counts. When a
fold replaces the totals file, the last values read from the files it
took in move into its baseline, so a line shows what they counted since
the line before, once: a worker that exits or is killed makes the lines
neither drop nor jump. A file is read if it has
any of the fields or matches a -f filter. A string field, or a field that
no file has, is an error.

Numbers are right-aligned in columns as wide as their header and the
widest value so far; integers print exactly (sums too, past 64 bits),
floats with up to 6 significant digits. On a terminal the header is bold,
non-zero values are coloured (unless NO_COLOR is set or TERM=dumb), a
timestamp shows as its age (0.3s, 5.5m, 2.0h), the header is printed
again whenever the columns change (or rewritten in place, if no line came
after it), and the columns are fitted to the width of the terminal, again
when it is resized: the gap between columns shrinks from two spaces to
one, headers lose their leading parts (timers.request becomes request)
and are then cut (requ~), values are shown in 5 characters with SI
prefixes (1.2k, 45M, and 1.4m, 14µ for small ones), and columns that
still do not fit are left out, the lines ending in ">". When piped, lines
are plain text with exact values (timestamps in seconds since the epoch),
written out every interval. File names in messages on stderr are quoted
if they hold control characters.

Exit status: 0 after -c lines or when interrupted (SIGINT, SIGTERM), 1 if
no file can be read at start (for a view: none has runtime stats), 2 for
bad flags, an unknown field or view, or a string field.`

const examples = `  # requests by status class of every mmstats-demo worker, every second
  pollstats -p web.stats.status 2XX,3XX,4XX,5XX /tmp/mmstats-demo-*

  # the same for the processes that come and go in a directory, 5 lines
  pollstats -c 5 -d 0.5 -p web.stats.status 2XX,5XX /tmp/stats

  # the request time percentiles of all the workers' requests together,
  # and the requests per second over the last 10 s
  pollstats -p web.stats.timers.request p50,p99,rate10s '/tmp/mmstats-*'

  # the same for each worker, a row per process
  pollstats --each -p web.stats.timers.request p50,p99,rate10s '/tmp/mmstats-*'

  # the garbage collector of every Go process with runtime stats, as jstat
  pollstats --view gc

  # the scheduler of each of them, a row per process; the views' columns
  pollstats --view sched --each /tmp/stats
  pollstats --view list`

// Options are the settings of one pollstats run.
type Options struct {
	Streams *cli.Streams
	// Fields are the fields to show, as given (without the prefix).
	Fields []string
	// Args are the FILE|DIR|GLOB arguments.
	Args []string
	// Count is the number of lines to print; 0 means until interrupted.
	Count int
	// Delay is the time between lines.
	Delay time.Duration
	// Filters include files that lack the fields: KEY matches files with
	// a label that starts with KEY, KEY=VALUE files where label KEY has
	// the text VALUE.
	Filters []string
	// Headers is how many lines to print between headers; 0 prints the
	// header once.
	Headers int
	// Prefix is prepended to each field (see the package documentation).
	Prefix string
	// Verbosity is the number of -v flags: 1 warnings, 2 info, 3 debug.
	Verbosity int
	// Absolute shows current values instead of changes.
	Absolute bool
	// Each prints a row per file, labelled with its PID, instead of one
	// line over the files.
	Each bool
	// View names a preset set of columns computed from the Go runtime's
	// stats (views.go), shown instead of Fields; "list" lists them.
	View string

	preset *preset // the View, set by Validate; Fields are its inputs

	// Hooks for tests: after returns a channel that fires after d, and
	// notify and stop subscribe to and unsubscribe from signals.
	after  func(d time.Duration) <-chan time.Time
	notify func(c chan<- os.Signal)
	stop   func(c chan<- os.Signal)
	// now is the clock of a view's rates, clock that of the polls
	// (schedule.go).
	now   func() time.Time
	clock func() time.Time
}

// NewCmd returns the pollstats command, writing to streams. It runs
// runF with the validated options, or Run if runF is nil.
func NewCmd(streams *cli.Streams, runF func(*Options) error) *cobra.Command {
	opts := &Options{Streams: streams}
	cmd := &cobra.Command{
		Use:     "pollstats [flags] {FIELDS | --view VIEW} [FILE|DIR|GLOB]...",
		Short:   "Show some stats over many files, combined by policy, every interval",
		Long:    long,
		Example: examples,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 && opts.View == "" {
				return cli.UsageError("missing FIELDS, a comma-separated list of labels, or --view VIEW")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			switch {
			case opts.View == viewList:
				if len(args) > 0 {
					return cli.UsageError("--view list takes no arguments")
				}
				return writeViews(streams.Out)
			case opts.View != "":
				opts.Args = args
			default:
				fields, err := parseFields(args[0])
				if err != nil {
					return err
				}
				opts.Fields, opts.Args = fields, args[1:]
			}
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

// AddFlags adds the command's flags, bound to o.
func (o *Options) AddFlags(cmd *cobra.Command) {
	o.Delay = time.Second
	o.Headers = 20
	f := cmd.Flags()
	f.IntVarP(&o.Count, "count", "c", 0, "print `N` lines, then exit (default: until interrupted)")
	f.VarP((*delayValue)(&o.Delay), "delay", "d", "`SECONDS` between lines; fractions allowed, such as 0.5")
	f.StringArrayVarP(&o.Filters, "filter", "f", nil, "also read files with a label starting with `KEY`, or where KEY=VALUE (repeatable)")
	f.IntVarP(&o.Headers, "headers", "n", 20, "print the header again every `N` lines (0: only once)")
	f.StringVarP(&o.Prefix, "prefix", "p", "", "`PREFIX` of every field")
	f.CountVarP(&o.Verbosity, "verbose", "v", "report on stderr: -v warnings, -vv files coming and going, -vvv timings")
	f.BoolVarP(&o.Absolute, "absolute", "a", false, "show the current values of counters too, instead of their changes")
	f.BoolVarP(&o.Each, "each", "e", false, "print a row per file (labelled with its PID) instead of one line over the files")
	f.StringVar(&o.View, "view", "", "show the preset columns `VIEW` (gc, sched or mem) of the Go runtime's stats instead of FIELDS; list lists them")
	cmd.RegisterFlagCompletionFunc("view", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return viewNames(), cobra.ShellCompDirectiveNoFileComp
	})
}

// parseFields splits the FIELDS argument.
func parseFields(arg string) ([]string, error) {
	fields := strings.Split(arg, ",")
	for i, f := range fields {
		fields[i] = strings.TrimSpace(f)
		if fields[i] == "" {
			return nil, cli.UsageError("empty field name in FIELDS %q", arg)
		}
	}
	return fields, nil
}

// Validate checks the options; its errors are usage errors.
func (o *Options) Validate() error {
	if o.Count < 0 {
		return cli.UsageError("--count must not be negative, got %d", o.Count)
	}
	if o.Headers < 0 {
		return cli.UsageError("--headers must not be negative, got %d", o.Headers)
	}
	if o.Delay <= 0 {
		return cli.UsageError("--delay must be positive, got %v", o.Delay)
	}
	for _, f := range o.Filters {
		if k, _, _ := strings.Cut(f, "="); k == "" {
			return cli.UsageError("bad --filter %q: want KEY or KEY=VALUE", f)
		}
	}
	if o.View != "" {
		return o.validateView()
	}
	return nil
}
