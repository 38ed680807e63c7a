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
// the whitespace of a type signature, which Python's struct module skips.
// The six whitespace characters " \t\n\v\f\r" serve as the base-6 digits
// 0 to 5, in that order. A Go writer's signature reads, in order:
//
//	'\r' K U U R       metadata (5 bytes, optional): '\r', then digits:
//	                   the kind K (0 none, 1 counter, 2 gauge, 3 timestamp,
//	                   4 info), the unit U U (two digits, high first: 0
//	                   none, 1 seconds, 2 bytes, 3 ratio, 4 percent,
//	                   5 meters, 6 grams, 7 celsius, 8 volts, 9 amperes,
//	                   10 joules, 11 hertz, 12 bits, 13 watts, 14 kelvin),
//	                   and the group role R (0 alone, 1 group head, 2 group
//	                   member)
//	spaces, 8 digits   a sequence word, 8-aligned in the file (buffered
//	                   strings and group heads only): a number in base 6,
//	                   least significant digit first
//	spaces             padding that aligns the value for an atomic access
//	code               the struct format itself: "Q", "d", "255s"
//
// Readers strip whitespace, so the type reads as "Q" or "255s" whatever
// the metadata and padding; the Python reader shows the same stats.
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
// # Other systems
//
// Files are mapped on every Unix. The mappings are kept under a budget
// (past it, a file is read into a private copy, as when mmap fails):
// three quarters of vm.max_map_count on Linux, and elsewhere a fixed
// number, as if the limit were Linux's default of 65,530.
//
// On Windows no file is mapped: every File is such a copy, read with the
// same protocol as a mapped read (a string or a group is read again until
// its sequence word shows that no write overlapped it), and reading it
// again reads the file again. The file identity that tells a replaced
// file is the volume serial number and file index.
package reader
