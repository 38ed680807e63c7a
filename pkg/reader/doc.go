// Package reader parses and reads mmstats files, format version 1.
//
// A v1 file is a version byte followed by fields packed back to back, in the
// machine's native byte order and sizes:
//
//	offset        size        meaning
//	0             1           version, always 0x01
//	then, per field:
//	o             2 (u16)     label_sz: bytes in the label; 0 ends the list
//	o+2           label_sz    label, UTF-8, no terminator
//	t=o+2+L       2 (u16)     type_sz: bytes in the type signature
//	t+2           type_sz     type: a Python struct format for ONE value
//	w=t+2+T       1           write_buffer: 0xff unbuffered, 0 or 1 buffered
//	w+1           S or 2*S    the value (unbuffered) or two buffers; the
//	                          current value of a buffered field is
//	                          buffers[write_buffer^1]; S = calcsize(type)
//
// The list ends at a label_sz of 0 (the zero padding after the last field)
// or at the end of the file. Strings ("Ns") are NUL-padded and cut at the
// first NUL. Everything above is frozen by compatibility with the Python
// implementation (mmstats 0.8.0): files it wrote must read identically here,
// and files the Go writer writes must read in its reader.
//
// The Go writer stays inside that contract with conventions that live in
// the whitespace of a type signature, which Python's struct module skips,
// and in pad bytes ('x'), which it counts in calcsize and skips in
// unpack. The six whitespace characters " \t\n\v\f\r" serve as the
// base-6 digits 0 to 5, in that order. A Go writer's signature reads, in
// order:
//
//	'\f' K U U R A A   metadata version 2 (7 bytes, optional): '\f', then
//	                   digits: the kind K (0 none, 1 counter, 2 gauge,
//	                   3 timestamp, 4 info), the unit U U (two digits, high
//	                   first: 0 none, 1 seconds, 2 bytes, 3 ratio,
//	                   4 percent, 5 meters, 6 grams, 7 celsius, 8 volts,
//	                   9 amperes, 10 joules, 11 hertz, 12 bits, 13 watts,
//	                   14 kelvin), the group role R (0 alone, 1 group
//	                   head, 2 group member, 3 group member carrying the
//	                   group's histogram buckets) and the aggregation
//	                   policy A A (two digits, high first; see below)
//	'\r' K U U R       metadata version 1 (5 bytes), as earlier Go
//	                   writers wrote it: the same without the policy
//	                   (read as 0, the default) and without role 3
//	15 digits          bucket descriptor (role 3 only, right after the
//	                   metadata): the schema (2 digits), the index of the
//	                   window's first bucket plus 139968 (6^7/2; 7
//	                   digits) and the number of buckets N (6 digits),
//	                   each number least significant digit first
//	spaces, 8 digits   a sequence word, 8-aligned in the file (buffered
//	                   strings and group heads only): the first 8-aligned
//	                   8 bytes of whitespace after the metadata, a number
//	                   in base 6, least significant digit first
//	spaces             padding that aligns the value for an atomic access
//	code               the struct format itself: "Q", "d", "255s", and
//	                   for role 3 "Q" followed by 16+8N pad bytes
//	                   ("Q15376x")
//
// Readers strip whitespace, so the type reads as "Q", "255s" or "Q15376x"
// whatever the metadata and padding; the Python reader shows the same
// stats, and no extra one.
//
//   - Alignment: 8-byte values sit at 8-byte offsets, 4-byte ones at
//     4-byte offsets, and 1- and 2-byte ones inside one aligned 4-byte
//     word, so that they are written and read atomically and never tear.
//   - Strings: the writer bumps a string's sequence word to odd, writes
//     the buffer readers are not reading, flips write_buffer, and bumps
//     the word to even; this reader uses it to reject a copy that a write
//     overtook (a torn read).
//   - Groups: a field that publishes several stats (a histogram's count,
//     sum and percentiles) marks the first as the group head and the rest
//     as members; the head's sequence word guards the whole group, which
//     [Stats] reads as one consistent snapshot.
//   - Kinds and units tell tools what a number means: pollstats shows
//     counters as deltas and gauges as values, Prometheus output gets
//     "# TYPE" and unit suffixes, timestamps can print as dates. Files
//     without metadata (the Python writer's) keep the tools' defaults.
//
// # Aggregation policies
//
// The policy digits say how tools combine a field's values of many files
// (the processes of a prefork server) into one; package aggregate applies
// them. The reader only decodes them ([Meta].Aggregation):
//
//	0  default, by kind: counter and gauge sum, timestamp latest,
//	   info none, no kind sum (what the tools did before policies)
//	1  sum
//	2  max
//	3  min
//	4  avg: the mean over the files
//	5  latest: for a timestamp the largest value; otherwise the value of
//	   the file whose sys.created is the largest
//	6  none: not aggregated (a PID); a tool shows one file's value, named
//	7  wavg: the mean weighted by a count of the same file: label.count
//	   for a label, label.rateW for label.avgW (a time window W); the
//	   plain mean when a file has no such count
//	8  quantile: recomputed from the merged buckets of the group whose
//	   head's label precedes the suffix ".p" DIGITS, q = 0.DIGITS
//	   (.p50 is 0.5, .p999 0.999)
//
// Digits 9 to 35 are reserved; a reader reads them as 0. Files without
// metadata, and with version-1 metadata, have policy 0.
//
// # Histogram buckets
//
// A histogram group (the Go writer's Histogram and Timer) publishes its
// bucket counts so that readers can merge the histograms of many
// processes. The buckets are exponential, as Prometheus's native
// histograms: at schema s, bucket i holds the values v with
// 2^((i-1)/2^s) < v <= 2^(i/2^s), so the bucket of v is ceil(2^s·log2 v)
// (the Go writer compares with the bounds rounded to float64, so a value
// within an ulp of a bound may land on either side; nothing depends on
// it).
// The Go writer uses schema 6 (64 buckets per power of two); readers
// accept 0 to 8. A histogram counts a window of N buckets from index lo,
// plus an underflow count (zero, and values at or below 2^((lo-1)/2^s))
// and an overflow count (values above 2^((lo+N-1)/2^s)).
//
// The counts live in the pad bytes of the group member with role digit 3
// (the writer's label.count), whose type is "Q" followed by 16+8N pad
// bytes: the value is the count of values, and the pad region, 8-aligned
// in the file, holds native-endian u64s:
//
//	offset from the pad region   meaning
//	0                            underflow count
//	8                            overflow count
//	16 + 8k                      count of bucket lo+k, for k in [0, N)
//
// The writer updates them with the rest of the group, under the head's
// sequence word, so a consistent snapshot has count = underflow +
// overflow + the bucket counts. The group's members labelled label.sum,
// label.min and label.max (label being the head's) give the sum and the
// extremes. A percentile is the value of rank ceil(q·n) among the n
// counted values: the geometric midpoint of its bucket,
// 2^((i-1/2)/2^s), kept within [min, max]; min for a rank in the
// underflow, max in the overflow. At schema 6 it is within
// 2^(1/128)-1 = 0.54% of the exact value of that rank, and merging keeps
// that bound: it adds counts, and buckets do not move. The Go writer's
// default windows are 2^-22 s to 256 s for seconds, 1 to 2^30 for bytes
// and 2^-10 to 2^20 otherwise: N = 1920, 15,376 pad bytes.
//
// [File.ReadHistogram] and [ReadHistogram] read a group's [Histogram];
// [Histogram.Merge] adds one to another and [Histogram.Quantile] computes
// percentiles from the result. A descriptor that cannot be used (a
// schema above 8, pad bytes that do not match N, a buffered or
// misaligned carrier) gives [ErrBuckets] from them; the group's stats
// still read.
//
// Parse is pure: it takes bytes and returns the layout or an error, never
// panics, and is fuzzed. File maps a file read-only (Open for a path,
// OpenFile for a file the caller opened) and re-reads values without
// parsing the layout again, so that a poller can read thousands of files
// each second: Lookup finds a field by its label, Value reads it, and
// Update follows what the writer did since (fields appended, the file
// grown or replaced), whether the file is mapped or, past the process's
// mapping limit, read from a copy.
//
// A stats file is written by whoever can write its directory, so readers
// bound what a file can make them hold. A parsed Field takes about 200
// bytes, and a file can pack a field in 8: a File keeps 4 bytes a field
// and builds Fields only when asked; Scan, ScanStats and File.ScanFields
// and File.ScanStats go through a file without holding its fields or
// stats; and a group is read MaxGroup fields at a time.
//
// # Shared layouts
//
// The workers of one program write files with the same fields at the
// same offsets. A File whose file has the layout of a file opened before
// (same size, and the same bytes wherever parsing looks: labels, types,
// the class of each write_buffer byte, the end of the list) shares that
// parsed layout rather than parsing and holding its own:
// File.SharedLayout returns it, so that a tool derives what it needs from
// a layout (label widths, the fields it shows) once for all those files.
// The check is fuzzed against Parse (FuzzShapeMatchesParse). A File whose
// file changes its layout (fields appended, grown into a larger copy)
// takes its own from then on; the shared one never changes.
//
// A Snapshot reads files once each, with pread into a buffer it reuses,
// for tools that read a file and are done with it (slurpstats,
// cleanstats): a file of a shared layout costs the reads of its layout's
// and values' bytes, checked, not parsed. Strings and groups under a
// sequence word are read again under the same protocol as a mapped read
// before a value of theirs is read, and bucket counts are read when a
// histogram is, so that a copy is never torn.
//
// # Other systems
//
// Files are mapped on every Unix. The mappings are kept under a budget
// (past it, a file is read into a private copy, as when mmap fails):
// vm.max_map_count on Linux less a sixteenth of it (at least 4,096 are
// left to the rest of the process), and elsewhere a fixed number, as if
// the limit were Linux's default of 65,530.
//
// On Windows no file is mapped: every File is such a copy, read with the
// same protocol as a mapped read (a string or a group is read again until
// its sequence word shows that no write overlapped it), and reading it
// again reads the file again. The file identity that tells a replaced
// file is the volume serial number and file index.
package reader
