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
// Two conventions of the Go writer stay inside that contract, because
// Python's struct module ignores whitespace in a format:
//
//   - Alignment. The writer pads a type signature with spaces so that the
//     value after it is aligned for an atomic access (8-byte values at
//     8-byte offsets, and so on). Readers strip whitespace, so the type
//     reads as "Q" whatever the padding.
//   - String sequence words. A buffered string field written by the Go
//     writer carries, inside the leading whitespace of its type, an 8-byte
//     aligned word whose bytes are whitespace characters encoding a
//     sequence number in base 6 (see [SeqAlphabet]). The writer bumps it
//     before and after each write; this reader uses it to reject a copy
//     that a writer overtook (a torn read). Other readers see whitespace.
//
// Parse is pure: it takes bytes and returns the layout or an error, never
// panics, and is fuzzed. File maps a file read-only and re-reads values
// without parsing the layout again, so that a poller can read thousands of
// files each second.
package reader
