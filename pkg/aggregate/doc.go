// Package aggregate combines the stats of many mmstats files into one
// value per label, by each field's aggregation policy: the one rule that
// every tool (pollstats' columns, mmash, slurpstats --total, the
// Prometheus output) applies, so that no tool re-implements it.
//
// The reader decodes a field's policy from its metadata (see package
// reader); PolicyOf resolves the default by kind. The policies:
//
//	policy     result over the files                      default for
//	sum        the sum; integers exact in 128 bits        counters, gauges, no metadata
//	max, min   the largest, the smallest value, and its file
//	avg        the mean                                   Average, MovingAverage
//	latest     timestamps: the largest; other values:     timestamps (sys.created)
//	           the value of the newest file (sys.created)
//	none       not aggregated: the first file's value,    info (sys.pid, strings)
//	           named by its file, and whether all agree
//	wavg       the mean weighted by the same file's       a histogram's main stat (by
//	           label.count, or label.rateW for label.avgW  .count), its .avgW (by .rateW)
//	quantile   recomputed from the merged histogram of    a histogram's .p50 ... .p999
//	           the group: label.pDIGITS is q = 0.DIGITS
//
// Merged percentiles keep the writer's error bound: a histogram's
// buckets are exponential (schema 6: 64 per power of two), merging adds
// their counts, and a percentile is the geometric midpoint of the bucket
// that holds its rank, within 2^(1/128)-1 = 0.54% of the exact value of
// the pooled samples, kept within the merged [min, max] (a rank below or
// above the histogram's window reports the min or the max).
//
// # Totals files
//
// When a stats file's writer is gone, the file is folded into the totals
// file of its directory (File.Remove of the writer does it for its own
// file, cleanstats for the files of dead writers): its counters and
// histograms are added to the totals file's, and it is removed. A
// totals file (IsTotals: a sys.folded string, no sys.pid) is a stats
// file like the others for an Accumulator: its counters sum with the
// live files', its histograms merge. Its sys.folded lists the files it
// holds that may not be removed yet, by their sys.id (FileID). A reading
// counts each value once while files are folded if it
//
//  1. opens (or updates) the stats files of the reading;
//  2. then opens the totals files again: a fold replaces a totals file
//     by renaming a new one over it, so a totals file opened before
//     may miss a file that was folded, and removed, meanwhile;
//  3. leaves out the stats files that a totals file lists (Folded), and
//     feeds the others, and the totals files.
//
// A dead file not folded yet still counts, and a file folded after the
// reading opened it counts in the totals file only. AddFiles does it all
// for a tool that reads a set of files once and feeds them whole;
// Arrange sorts them for a tool that feeds only some labels (Begin, Add,
// End), such as slurpstats --total or a mmash request. A poller that
// keeps its files open keeps each one's FileID, and each round opens the
// totals files again, fills a Folded from them (Reset, Add), skips the
// files it Has, and feeds the totals files last; when a file it showed
// leaves because it was folded, its values moved into the totals file,
// which is how a per-file baseline (pollstats' deltas) moves over
// without a spike or a drop.
//
// An Accumulator does the work: feed it each file (AddFile, or Begin,
// Add, AddHistogram and End for a tool that reads only some stats), then
// read Totals. It keeps its memory between rounds (Reset), so that a
// poller that aggregates the same files every second does not allocate
// once warmed up.
package aggregate
