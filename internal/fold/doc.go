// Package fold adds the counters and histograms of a stats file whose
// writer is gone into the totals file of its directory, before the file
// is removed, so that the totals the tools show do not drop when
// processes come and go (a prefork server recycling its workers). The
// writer folds its own file at File.Remove; a Cleaner (cleanstats) folds
// every stale file it removes. It has one job: the totals file and the
// protocol that changes it.
//
// # Which files fold, and into what
//
// A file of the Go writer whose name template has {PID} carries two
// default fields: sys.id, a random 64-bit number that names the file
// (a PID is not unique across PID namespaces; a device and inode change
// when the writer grows the file, and are reused), and sys.totals, the
// name of its totals file in the same directory: the template with
// {TID} dropped together with one separator next to it, and {PID}
// replaced by "totals" (convention.TotalsTemplate):
// "{CMD}-{PID}-{TID}.mmstats" folds into "{CMD}-totals.mmstats", which
// the users' globs (/tmp/mmstats-demo-*, *.mmstats) match as they match
// the files folded into it. A file without both (the Python writer's,
// older Go writers', a template without {PID}) does not fold: it is
// removed as before.
//
// # The totals file
//
// A v1 file that Python mmstats 0.8.0 reads, laid out by the writer's
// rules (v1.Place), all fields unbuffered, holding in the order first
// folded:
//
//   - every folded counter (kind counter) by label, with its metadata,
//     combined by its policy: summed (exactly, as integers while they
//     fit 64 bits), or the max or min for a counter that says so;
//   - every folded histogram group (a Histogram or Timer): its buckets,
//     underflow, overflow, count and sum added, min and max kept, the
//     percentiles recomputed from the merged buckets, the main stat the
//     mean (sum/count), rates and windowed means 0 (they describe live
//     processes); its .count carries the buckets in its pad bytes as the
//     writer's does, so readers merge it with the live files';
//   - sys.folded, last: a string (as long as its entries, rounded up to
//     16 bytes) that lists the files folded into it and perhaps not
//     removed yet, "ID:NAME" separated by spaces (convention.Folded).
//
// Gauges, timestamps, strings and info are not folded. A label folded
// with another shape before (a counter, then a histogram) keeps its
// first shape; the other is skipped. The totals file has no sys.pid:
// cleanstats never judges or removes it. Its size depends on the labels
// it holds, not on the number of files folded into it: the entries of
// sys.folded are pruned at each fold (Totals.prune).
//
// # The protocol
//
// To fold a file X (its writer gone, or its writer exiting) into the
// totals file T:
//
//  1. Hold a lock on X that keeps every other folder away: the writer's
//     own shared flock (which it holds from X's creation; a Cleaner
//     judges X stale only once it can take an exclusive one), or a
//     Cleaner's exclusive flock.
//  2. Take the exclusive flock of T itself, waiting up to LockWait: it
//     serialises the folds into T. A fold replaces T by renaming a new
//     file over it, so a folder that got the lock checks that the name
//     still holds the file it locked, and if not, locks the new one. A
//     missing T is made first, empty (no stats, an empty sys.folded),
//     under a temporary name renamed to T only if T is still missing
//     (RENAME_NOREPLACE): the lock file is the totals file, and a
//     directory holds nothing but the stats files of its live writers
//     and T.
//  3. Check that X is still at its name: a folder removes or moves a
//     file only under this lock, so X gone means another folder handled
//     it (Vanished).
//  4. Read T (through the locked descriptor) and its sys.folded.
//  5. If sys.folded lists X's sys.id, X was folded before a folder died:
//     go to 7 (recording first, as in 6, a name that the removal is
//     about to move X to and that sys.folded does not list yet).
//  6. Write T' = T + X, whose sys.folded drops the files that are gone
//     (but the last KeepGone folded) and lists X under its name and
//     under the private name a Cleaner moves it to before unlinking it,
//     to a temporary file in the directory (".mmstats.<16 hex>.tmp", a
//     writer's temporary name), locked exclusively from its creation,
//     and rename it over T. The rename is the commit point; the lock
//     moves with the name, since T' came locked, and the folder lets the
//     old T's go.
//  7. Remove X (the Cleaner's removal, or the writer's unlink), then
//     release the locks.
//
// A folder killed before the commit changed nothing that readers see
// (its temporary file, unlocked, is an abandoned temporary file that
// cleanstats removes once it is a minute old); X is still unfolded, and
// the readers count it as a dead file. Killed after the commit, it left
// X folded and listed: readers leave X out, and the next fold only
// removes it. Concurrent folders serialise on the lock; the second
// finds X gone, or listed. Nothing is lost, nothing counted twice:
// TestFoldSurvivesKills (pkg/clean) kills folders at every step.
//
// A folded file moves only between names that sys.folded lists with it
// (its name and a Cleaner's private name, to which a Cleaner moves it to
// unlink it, and from which a Cleaner that judges it alive puts it back),
// so its entries are pruned together, when none of their names holds a
// file with its sys.id any more. The entries of the KeepGone files
// folded last are kept even then: a reader that holds a file it opened
// before the file was folded and removed, and opens T again after, must
// still find it listed, or it would count it twice; and a poller that
// showed the file since it last looked learns from them that its values
// moved into T (pkg/aggregate).
//
// A Folder keeps the lock and the totals file it read between
// consecutive folds into the same totals file, for up to HoldFor (then
// it lets it go for a moment, so that exiting writers get their turn),
// as a Cleaner folding thousands of files does; each file is still
// committed on its own. The new totals file keeps the old one's owner and mode
// (root's cleanstats gives it to the owner of the first file folded, so
// that the writers can replace it in a sticky directory such as /tmp).
//
// The protocol is safe against processes that are killed, not against
// a crash of the machine: nothing is synced to disk, as nothing of the
// stats files is.
//
// # Readers
//
// pkg/aggregate reads totals files (IsTotals, Folded, AddFiles): the
// stats files first, then the totals files, opened again (a fold
// replaces T by renaming), and the stats files that a totals file lists
// are left out.
//
// On systems without flock(2) and the *at calls (Windows), Fold fails
// with an error wrapping errors.ErrUnsupported.
package fold
