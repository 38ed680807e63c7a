// Package slurpstats implements the slurpstats command: print every stat
// of one or more mmstats files, as text (like the Python original), a
// side-by-side table, or JSON.
package slurpstats

import (
	"bufio"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/reader"
)

const long = `Print the label and current value of every stat in mmstats files.

With no argument, slurpstats reads the files that $MMSTATS_GLOB matches
(default: $MMSTATS_PATH/*.mmstats, where MMSTATS_PATH defaults to the
temporary directory). A DIR argument means the *.mmstats files in it, and a
quoted glob is expanded by slurpstats itself. Files print sorted by path.

The output format is chosen with -o. text, the default, prints for each
file a line "==> PATH", then one line "  label value" per stat with the
labels aligned, then a blank line, as the Python slurpstats does. table
prints one row per label and one column per file, to compare processes side
by side; on a terminal too narrow for it, the table is printed in blocks,
one under the other, each with the label column and the file columns that
fit (values are never cut), and it holds at most 10000 labels. json prints
an array with one object per file,
{"path": ..., "stats": [{"label": ..., "type": ..., "value": ...}]}, or
{"path": ..., "error": ...} for a file that cannot be read (one that
breaks while it is read, truncated under slurpstats, has the stats read
before and then its "error"). prometheus prints the numeric stats in the
Prometheus text format (one series per file, labelled file and pid), for
node_exporter's textfile collector: counters and gauges get their # TYPE
and unit suffix from the writer's field metadata, stats without metadata
are untyped, and a Timer's or Histogram's group is a Prometheus histogram
(classic buckets at the powers of two, _sum, _count: see mmash --help);
--classic-schema N puts 2^N buckets in each power of two, for a
histogram_quantile within 2^(2^-N)-1 (100% at 0, 9.05% at 3).

With --total (-t), slurpstats prints one value per label over all the
files instead, combined by each field's aggregation policy, the same
rules as pollstats and mmash (package aggregate; see "policies" in the
README): counters and most gauges add up (integers exactly, past 64
bits); a gauge can take the max, min, mean or latest value instead; a
histogram's percentiles (.p50, .p99...) are computed from the merged
buckets of every file, so they are those of all the files' values
together (within 0.54%); its moving average is the files' mean weighted
by their counts; a timestamp takes the latest; an info field (a PID) is
not combined: it shows one file's value. Fields without metadata, such as
the Python writer's, add up. The totals file of a directory, into which
the files of processes that have exited are folded (see cleanstats),
counts like the others, and a file that a totals file already holds is
left out (-v says how many), so that a total neither drops nor counts a
value twice while worker processes come and go. Each value is followed by its policy, and,
when it is one file's value (max, min, latest, none) that not every file
shares, by that file. text prints "==> total of N files" and one line
"  label value policy [file]" per label; table prints the columns label,
value, policy and from (the file); json prints one object,
{"files": N, "stats": [{"label": ..., "policy": ..., "files": ...,
"value": ...}], "errors": [{"path": ..., "error": ...}]}, where "files"
of a stat counts the files that have it, "value" is null for
percentiles without any histogram, and a stat has "from" (the path of
the file its value came from) for max, min, latest and none, "same"
(whether every file has that value) for none, and "missing" (the files
whose histogram or weight was missing) when not 0; "errors" is there
only when a file could not be read. Stats of a file that breaks while it
is read count up to where it broke. --total combines at most 100000
labels (the rest are left out, said on stderr, exit status 1); it has no
prometheus output (mmash serves the files' stats for Prometheus).

With --human (-H), text and table output show what the writer's metadata
says a number is: timestamps as dates, seconds as durations (12.3ms) and
bytes in KiB, MiB... Stats without metadata print as they are.

In text and table output (and on stderr), a label, string value or file
name that holds a control character (an escape sequence, a newline) is
printed in double quotes with C escapes ("a\nb", "\033[31m"), as git quotes
paths, so that it cannot drive the terminal or forge a line. JSON and
Prometheus output have escapes of their own.

Stats go from each file to the output one by one: memory stays a small
multiple of the largest file's size, whatever its number of fields.

A file that cannot be read (missing, corrupt, not a regular file, such as a
directory or FIFO that a glob matched) is reported as one line on stderr and
the others are still printed; the exit status is then 1. It is also 1 when no
file matches, and when no label of the files read matches any -f (as with
grep, stderr then says so); 2 for bad flags. With -v, a summary line on
stderr gives the files read and failed, the stats shown and the time taken.`

const examples = `  # every stats file in $MMSTATS_PATH
  slurpstats

  # the files of some processes
  slurpstats /tmp/mmstats-*

  # compare the web stats of every process side by side
  slurpstats -f 'web.stats.*' -o table

  # timestamps as dates, durations and sizes for people
  slurpstats -H -f 'web.stats.timers.*'

  # one value per label over every worker: request counts added up,
  # percentiles of all their requests together, the latest hit
  slurpstats --total -H -f 'web.stats.*' /tmp/mmstats-demo-*

  # for node_exporter's textfile collector
  slurpstats -o prometheus > /var/lib/node_exporter/textfile/mmstats.prom.$$ &&
    mv /var/lib/node_exporter/textfile/mmstats.prom.$$ /var/lib/node_exporter/textfile/mmstats.prom

  # the "requests" counter of every file in DIR
  slurpstats --json DIR | jq '.[] | {path, requests: (.stats[]? | select(.label == "requests") | .value)}'`

// Options are the settings of one slurpstats run.
type Options struct {
	Streams *cli.Streams
	// Fields are path.Match patterns; only the labels that match one of
	// them are printed. Empty means every label.
	Fields []string
	// Output is the output format.
	Output Format
	// JSON is the --json shorthand: it overrides Output with FormatJSON.
	JSON bool
	// Human prints timestamps as dates, seconds as durations and bytes in
	// KiB, MiB... in text and table output (from the fields' metadata).
	Human bool
	// Location is the time zone of --human dates (nil: the local one).
	Location *time.Location
	// Verbose prints a summary on stderr at the end: files read and
	// failed, stats shown, time taken.
	Verbose bool
	// Total prints one value per label over all the files, combined by
	// policy (package aggregate), instead of each file's.
	Total bool
	// ClassicSchema is the resolution of the classic buckets of the
	// histograms of -o prometheus (see prom.ClassicSchema).
	ClassicSchema prom.ClassicSchema
	// Args are the FILE|DIR|GLOB arguments.
	Args []string

	outputSet  bool // -o was given, for Validate
	classicSet bool // --classic-schema was given, for Validate
}

// NewCmd returns the slurpstats command, writing to streams. It runs
// runF with the validated options, or Run if runF is nil.
func NewCmd(streams *cli.Streams, runF func(*Options) error) *cobra.Command {
	opts := &Options{Streams: streams, Output: FormatText}
	cmd := &cobra.Command{
		Use:     "slurpstats [FILE|DIR|GLOB]...",
		Short:   "Print the stats in mmstats files",
		Long:    long,
		Example: examples,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			opts.outputSet = cmd.Flags().Changed("output")
			opts.classicSet = cmd.Flags().Changed(prom.ClassicSchemaFlag)
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
	f := cmd.Flags()
	f.StringArrayVarP(&o.Fields, "field", "f", nil, "print only the labels that match `GLOB` (repeatable)")
	f.VarP(&o.Output, "output", "o", "output `FORMAT`: text, table, json or prometheus (--format works too)")
	f.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "format" {
			name = "output"
		}
		return pflag.NormalizedName(name)
	})
	f.BoolVar(&o.JSON, "json", false, "print JSON (same as -o json)")
	f.BoolVarP(&o.Human, "human", "H", false, "print timestamps as dates, durations and sizes for people (text and table)")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "print a summary on stderr: files read and failed, stats shown, time taken")
	f.BoolVarP(&o.Total, "total", "t", false, "print one value per label over all the files, combined by policy (text, table or json)")
	o.ClassicSchema = prom.DefaultClassicSchema
	prom.AddClassicSchemaFlag(f, &o.ClassicSchema)
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formatNames, cobra.ShellCompDirectiveNoFileComp))
}

// Validate checks the options; its errors are usage errors.
func (o *Options) Validate() error {
	if o.JSON && o.outputSet && o.Output != FormatJSON {
		return cli.UsageError("--json conflicts with --output %s", o.Output)
	}
	if o.Total && o.Output == FormatPrometheus && !o.JSON {
		return cli.UsageError("--total prints text, table or json, not prometheus (mmash serves the stats for Prometheus)")
	}
	if o.classicSet && (o.Output != FormatPrometheus || o.JSON) {
		return cli.UsageError("--classic-schema is for -o prometheus")
	}
	for _, p := range o.Fields {
		if _, err := path.Match(p, ""); err != nil {
			return cli.UsageError("bad --field pattern %q: %v", p, err)
		}
	}
	return nil
}

// Run prints the stats of the files that o names.
func Run(o *Options) error {
	start := time.Now()
	set := cli.NewFileSet(o.Args)
	paths, err := set.Resolve()
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("no stats files match %s", strings.Join(set.Names(), " "))}
	}
	w := bufio.NewWriterSize(o.Streams.Out, 64<<10)
	format := o.Output
	if o.JSON {
		format = FormatJSON
	}
	var human *humanizer
	if o.Human {
		human = &humanizer{loc: o.Location}
	}
	r := &runner{o: o}
	var tot *totaler
	if o.Total {
		tot = &totaler{r: r, admitted: map[string]bool{}, heads: map[string]bool{}}
	} else {
		r.p = newPrinter(format, w, o.Streams, human, o.ClassicSchema)
	}
	if tot != nil {
		tot.files(paths) // its output comes at the end
	} else {
		for _, name := range paths {
			if err := r.file(name); err != nil {
				return err // the write failed: stop reading
			}
		}
	}
	if tot != nil {
		if err := tot.print(w, format, o.Streams, human); err != nil {
			return err
		}
	} else if err := r.p.end(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	failed := r.failed > 0
	if t, ok := r.p.(*tablePrinter); ok && t.dropped > 0 {
		fmt.Fprintf(o.Streams.Err, "slurpstats: the table shows the first %d labels and leaves out %d; choose with -f, or use -o text\n", maxTableRows, t.dropped)
		failed = true
	}
	if tot != nil && tot.folded > 0 && o.Verbose {
		fmt.Fprintf(o.Streams.Err, "slurpstats: %d %s left out: a totals file holds %s\n",
			tot.folded, plural(tot.folded, "file", "files"), plural(tot.folded, "it", "them"))
	}
	if tot != nil && tot.dropped {
		fmt.Fprintf(o.Streams.Err, "slurpstats: --total combines the first %d labels and leaves out the others; choose with -f\n", maxTotalLabels)
		failed = true
	}
	if len(o.Fields) > 0 && r.read > 0 && r.shown == 0 {
		fmt.Fprintf(o.Streams.Err, "slurpstats: no label matches %s\n", patternList(o.Fields))
		failed = true
	}
	if o.Verbose {
		fmt.Fprintf(o.Streams.Err, "slurpstats: %d %s read, %d failed; %d of %d stats shown; %v\n",
			r.read, plural(r.read, "file", "files"), r.failed, r.shown, r.stats, time.Since(start).Round(time.Microsecond))
	}
	if failed {
		return cli.Failed()
	}
	return nil
}

// runner reads the files one by one and feeds their stats to a printer,
// counting what it did.
type runner struct {
	o    *Options
	p    printer
	snap reader.Snapshot // each file is read once: a copy, not a mapping

	read, failed int // files read whole, files that failed
	stats, shown int // stats read, and printed

	shownLayout *reader.Layout // the shared layout shownAt is for
	shownAt     []bool         // by field of shownLayout: whether -f shows it
}

// file prints the stats of the file name. Its error is a write error,
// which ends the run; a file that cannot be read is reported and counted.
// The stats go from the file to the output one by one: nothing holds a
// file's stats, so that a file of millions of tiny fields costs no more
// memory than its mapping and 4 bytes a field (see reader.File).
func (r *runner) file(name string) error {
	f, err := r.snap.Open(name)
	if err != nil {
		return r.fail(name, err)
	}
	defer f.Close()
	if pr, ok := r.p.(preparer); ok {
		if err := pr.prepare(f, r.match); err != nil {
			return r.fail(name, err)
		}
	}
	if err := r.p.begin(name); err != nil {
		return err
	}
	// Which stats -f shows, by field, for a layout files share: matched
	// once for all of them. (ScanStats passes a stat for each field, in
	// file order.)
	var shownAt []bool
	if l := f.SharedLayout(); l != nil && len(r.o.Fields) > 0 {
		if l != r.shownLayout {
			r.shownLayout, r.shownAt = l, r.shownAt[:0]
			for i := range l.Fields {
				r.shownAt = append(r.shownAt, r.match(l.Fields[i].Label))
			}
		}
		shownAt = r.shownAt
	}
	k := 0
	var werr error
	rerr := f.ScanStats(func(s *reader.Stat) bool {
		var shown bool
		if k < len(shownAt) {
			shown = shownAt[k]
		} else {
			shown = r.match(s.Label)
		}
		k++
		r.stats++
		if shown {
			r.shown++
		}
		werr = r.p.stat(s, shown)
		return werr == nil
	})
	if werr != nil {
		return werr
	}
	msg := ""
	if rerr != nil { // it broke while it was read: truncated under us, say
		r.failed++
		msg = r.report(name, rerr)
	} else {
		r.read++
	}
	return r.p.endFile(msg)
}

// fail reports a file that cannot be read.
func (r *runner) fail(name string, err error) error {
	r.failed++
	return r.p.fail(name, r.report(name, err))
}

// report prints "slurpstats: PATH: reason" on stderr, with the path
// quoted if it holds control characters, and returns "PATH: reason" as
// it is, for JSON.
func (r *runner) report(name string, err error) string {
	reason := err.Error()
	var pe *reader.PathError
	if errors.As(err, &pe) && pe.Path == name {
		reason = pe.Err.Error()
	}
	fmt.Fprintf(r.o.Streams.Err, "slurpstats: %s: %s\n", cli.Quote(name), reason)
	return name + ": " + reason
}

// match reports whether label is printed: it matches one of the -f
// patterns, or there are none.
func (r *runner) match(label string) bool {
	if len(r.o.Fields) == 0 {
		return true
	}
	for _, p := range r.o.Fields {
		if ok, _ := path.Match(p, label); ok {
			return true
		}
	}
	return false
}

// patternList names the -f patterns: "-f 'web.*'", "-f a or -f b".
func patternList(patterns []string) string {
	q := make([]string, len(patterns))
	for i, p := range patterns {
		q[i] = "-f " + shellQuote(p)
	}
	return strings.Join(q, " or ")
}

// shellQuote quotes a pattern as a user would type it: as it is when it
// has no special character, else in single quotes (through cli.Quote if it
// holds control characters).
func shellQuote(s string) string {
	if cli.NeedsQuote(s) {
		return cli.Quote(s)
	}
	if s != "" && !strings.ContainsAny(s, " \t*?[]{}()$&|;<>'\"\\`~#!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
