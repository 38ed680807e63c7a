// Package cleanstats implements the cleanstats command: remove the mmstats
// files that dead processes left behind, and nothing else.
package cleanstats

import (
	"bufio"

	"github.com/spf13/cobra"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/clean"
)

const long = `Remove the mmstats files that dead processes left behind, and nothing else.

With no argument, cleanstats looks at the files that $MMSTATS_GLOB matches
(default: $MMSTATS_PATH/*.mmstats, where MMSTATS_PATH defaults to the
temporary directory). A DIR argument means the *.mmstats files in it, and a
quoted glob is expanded by cleanstats itself. A FILE, DIR or glob directory
that does not exist is an error (exit status 1), so that a typo in a
crontab does not go unnoticed.

A file is stale, and removed, when its writer is gone:

  - Files of the Go writer carry sys.flock: the writer holds a shared lock
    on its file while it lives. cleanstats tries to take an exclusive lock
    without waiting; if it gets it, the writer is gone, whatever its PID
    says and whatever PID namespace it ran in.
  - Other files (such as the Python writer's) name their writer by sys.pid.
    It is gone when no process has that PID, or when the process that has
    it now is another one: its real uid differs from sys.uid, or it started
    after sys.created (the PID was reused). A live process of another user
    is no reason to remove its file.

A stale file whose name has the writer's PID (the Go writer's default,
{CMD}-{PID}-{TID}.mmstats) names a totals file in the same directory, in
sys.totals: mmstats-demo-totals.mmstats for mmstats-demo-4242-4242.mmstats.
cleanstats folds the file into it before removing it: its counters and
histograms (counts, sums, buckets, min and max) are added to the totals
file's, so that the totals that pollstats, mmash and slurpstats --total
show do not drop when processes come and go; gauges are not folded, they
describe live processes. The line of such a file ends in "(folded into
PATH)". A writer that exits cleanly folds its own file. Folds are safe
against other cleanstats and exiting writers folding at the same moment,
and against any of them being killed: nothing is counted twice or lost.
The totals file is never removed (-v lists it); if a file cannot be
folded (the totals file's lock stays taken for 10 seconds, or it cannot
be read or replaced), it is kept and reported as an error. --dry-run
folds nothing.

Never removed, only reported: symlinks (neither the link nor its target is
touched), directories, FIFOs and other files that are not regular, invalid
files, files without a usable sys.pid, and a file that was replaced while
cleanstats checked it. A FIFO cannot make cleanstats hang.

A live file renamed over a stale file's name at any moment is never
removed: holding the stale file's lock, cleanstats renames the name to a
private one (.NAME.cleanstats-XXXXXXXXXXXXXXXX), removes it only if it is
the stale file, and otherwise renames it back. Such a name that a killed
cleanstats, or a name taken again meanwhile, left behind is handled on the
next run: a stale file is removed, anything else goes back to its name.

With the *.mmstats files of a directory (a DIR, or the default),
cleanstats also removes the temporary files that a writer killed while
creating its file left there (.mmstats.XXXXXXXXXXXXXXXX.tmp, and
.NAME.tmpXXXXXXXXXXXX of older writers): once their creator's lock is
free and they are unchanged for 60 seconds. Temporary files kept are
printed with -v only.

cleanstats prints a line per file it removes, such as
"PID 4242 not found. Deleting /tmp/x.mmstats", a line per file it keeps for
another reason than a live writer, and a last line "Removed N  -  M alive".
File names and messages are quoted with C escapes if they hold control
characters. -v adds a line per live writer's file; -q prints nothing but
errors. --json prints one JSON object per file and line instead: {"path",
"kind" (stats, temporary, aside or totals), "pid" (a number, or null),
"decision" (removed, would-remove, alive, restored, would-restore, skipped
or error), "reason" (a stable name such as no-process, uid-differs,
started-after, lock-free, lock-held, pid-alive, abandoned-temporary,
young-temporary, symlink, not-regular, invalid, no-pid, replaced,
vanished, busy, name-taken, totals, fold-failed), "message", for a move
"moved_to", and for a file folded (or to fold) "folded_into"}.

The exit status is 0 when every file was handled (files kept and reported
count as handled), 1 when a path does not exist or some file could not be
handled (permission denied, I/O error, a live file kept aside because its
name is taken: each one reported on stderr as "cleanstats: PATH: reason",
and the other files still handled), and 2 for bad flags.`

const examples = `  # remove the stale files in $MMSTATS_PATH (default: the temporary directory)
  cleanstats

  # what would be removed in a directory, removing nothing
  cleanstats --dry-run /var/run/myapp

  # crontab line: every 10 minutes, printing only errors
  */10 * * * * cleanstats -q /var/run/myapp

  # the paths that would be removed
  cleanstats -n --json | jq -r 'select(.decision == "would-remove") | .path'`

// Options are the settings of one cleanstats run.
type Options struct {
	Streams *cli.Streams
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
	// Quiet prints only errors.
	Quiet bool
	// Verbose also prints a line per live writer's file.
	Verbose bool
	// JSON prints one JSON object per file and line.
	JSON bool
	// Args are the FILE|DIR|GLOB arguments.
	Args []string
	// Probe replaces the system's process and lock probes (for tests);
	// nil means clean.SystemProbe().
	Probe clean.Probe
}

// NewCmd returns the cleanstats command, writing to streams. It runs
// runF with the validated options, or Run if runF is nil.
func NewCmd(streams *cli.Streams, runF func(*Options) error) *cobra.Command {
	opts := &Options{Streams: streams}
	cmd := &cobra.Command{
		Use:     "cleanstats [flags] [FILE|DIR|GLOB]...",
		Short:   "Remove the mmstats files of dead processes",
		Long:    long,
		Example: examples,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
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
	f.BoolVarP(&o.DryRun, "dry-run", "n", false, "say what would be removed, remove nothing")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print only errors (for cron)")
	f.BoolVarP(&o.Verbose, "verbose", "v", false, "also print a line per file kept because its writer lives")
	f.BoolVar(&o.JSON, "json", false, "print one JSON object per file and line (JSON Lines)")
	cmd.MarkFlagsMutuallyExclusive("quiet", "verbose")
	cmd.MarkFlagsMutuallyExclusive("quiet", "json")
}

// Validate checks the options; its errors are usage errors. (cobra
// refuses --quiet with --verbose or --json before.)
func (o *Options) Validate() error { return nil }

// Run cleans the files that o names.
func Run(o *Options) error {
	entries, absent, err := resolve(o.Args)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(o.Streams.Out, 64<<10)
	p := &printer{o: o, out: w}
	for _, m := range absent {
		r := clean.Result{Path: m.path, Decision: clean.Failed, Reason: clean.OpenFailed, Err: m.err}
		if err := p.result(&r); err != nil {
			return err
		}
	}
	c := &clean.Cleaner{DryRun: o.DryRun, Probe: o.Probe}
	// The printer keeps nothing of a result: one Result for every file.
	if err := c.CleanEntriesTransient(entries, p.result); err != nil {
		return err
	}
	if err := p.summary(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if p.failed {
		return cli.Failed()
	}
	return nil
}
