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
by side. json prints an array with one object per file,
{"path": ..., "stats": [{"label": ..., "type": ..., "value": ...}]}, or
{"path": ..., "error": ...} for a file that cannot be read. prometheus
prints the numeric stats in the Prometheus text format (one series per
file, labelled file and pid), for node_exporter's textfile collector:
counters and gauges get their # TYPE and unit suffix from the writer's
field metadata, stats without metadata are untyped.

With --human (-H), text and table output show what the writer's metadata
says a number is: timestamps as dates, seconds as durations (12.3ms) and
bytes in KiB, MiB... Stats without metadata print as they are.

A file that cannot be read (missing, corrupt, not a regular file, such as a
directory or FIFO that a glob matched) is reported as one line on stderr and
the others are still printed; the exit status is then 1. It is also 1 when no
file matches, and 2 for bad flags.`

const examples = `  # every stats file in $MMSTATS_PATH
  slurpstats

  # the files of some processes
  slurpstats /tmp/mmstats-*

  # compare the web stats of every process side by side
  slurpstats -f 'web.stats.*' -o table

  # timestamps as dates, durations and sizes for people
  slurpstats -H -f 'web.stats.timers.*'

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
	// Args are the FILE|DIR|GLOB arguments.
	Args []string
}

// NewCommand returns the slurpstats command, writing to streams.
func NewCommand(streams *cli.Streams) *cobra.Command {
	opts := &Options{Streams: streams, Output: FormatText}
	cmd := &cobra.Command{
		Use:     "slurpstats [FILE|DIR|GLOB]...",
		Short:   "Print the stats in mmstats files",
		Long:    long,
		Example: examples,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if opts.JSON && cmd.Flags().Changed("output") && opts.Output != FormatJSON {
				return cli.UsageError("--json conflicts with --output %s", opts.Output)
			}
			return Run(opts)
		},
	}
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.Err)
	opts.AddFlags(cmd)
	return cli.Setup(cmd)
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
	cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(formatNames, cobra.ShellCompDirectiveNoFileComp))
}

// Run prints the stats of the files that o names.
func Run(o *Options) error {
	for _, p := range o.Fields {
		if _, err := path.Match(p, ""); err != nil {
			return cli.UsageError("bad --field pattern %q: %v", p, err)
		}
	}
	paths, err := cli.NewFileSet(o.Args).Resolve()
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		names := o.Args
		if len(names) == 0 {
			names = []string{reader.DefaultGlob()}
		}
		return &cli.ExitError{Code: cli.ExitFailure, Err: fmt.Errorf("no stats files match %s", strings.Join(names, " "))}
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
	p := newPrinter(format, w, o.Streams, human)
	failed := false
	for _, name := range paths {
		stats, err := reader.ReadFile(name)
		if err != nil {
			failed = true
			msg := errorMessage(name, err)
			fmt.Fprintf(o.Streams.Err, "slurpstats: %s\n", msg)
			err = p.fail(name, msg)
		} else {
			err = p.file(name, stats, filter(stats, o.Fields))
		}
		if err != nil {
			return err // the write failed: stop reading
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if failed {
		return cli.Failed()
	}
	return nil
}

// errorMessage returns "PATH: reason" for an error about the file name.
func errorMessage(name string, err error) string {
	var pe *reader.PathError
	if errors.As(err, &pe) {
		return err.Error()
	}
	return name + ": " + err.Error()
}

// filter returns the stats whose label matches one of patterns.
func filter(stats []reader.Stat, patterns []string) []reader.Stat {
	if len(patterns) == 0 {
		return stats
	}
	var kept []reader.Stat
	for _, s := range stats {
		for _, p := range patterns {
			if ok, _ := path.Match(p, s.Label); ok {
				kept = append(kept, s)
				break
			}
		}
	}
	return kept
}
