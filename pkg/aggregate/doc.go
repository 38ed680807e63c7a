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
// An Accumulator does the work: feed it each file (AddFile, or Begin,
// Add, AddHistogram and End for a tool that reads only some stats), then
// read Totals. It keeps its memory between rounds (Reset), so that a
// poller that aggregates the same files every second does not allocate
// once warmed up.
package aggregate
