// Package v1 holds what the writer (pkg/mmstats) and the reader
// (pkg/reader) share about format v1 beyond the public contract: its
// constants, and the encodings the Go writer keeps in the whitespace of a
// type signature (sequence words, field metadata versions 1 and 2, bucket
// descriptors) and the histogram buckets both sides compute (schema-6
// bucket indexes, bounds, the percentile rule). pkg/reader documents the
// format once; this package is where its details are computed, so that the
// two sides cannot drift apart. It is internal: readers of other languages
// follow pkg/reader's documentation, and Go users read files with
// pkg/reader.
package v1

// Version1 is the version byte of format v1.
const Version1 = 0x01

// Superseded is the version byte the Go writer gives a file it replaced
// by a larger copy at the same path (how it grows a file).
const Superseded = 0x00

// Unbuffered is the write_buffer value of an unbuffered field.
const Unbuffered = 0xff

// Alphabet holds the six whitespace characters that Python's struct
// module skips; they serve as the base-6 digits 0 to 5 of every number the
// Go writer keeps in a type signature.
const Alphabet = " \t\n\v\f\r"

// SeqModulus is the number of distinct sequence words (6^8).
const SeqModulus = 6 * 6 * 6 * 6 * 6 * 6 * 6 * 6

// Digit returns the value of c as a base-6 digit of Alphabet, or -1.
func Digit(c byte) int {
	switch c {
	case ' ':
		return 0
	case '\t':
		return 1
	case '\n':
		return 2
	case '\v':
		return 3
	case '\f':
		return 4
	case '\r':
		return 5
	}
	return -1
}

// DecodeSeq decodes a sequence word (8 digits, least significant first).
// ok is false if a byte is not a digit.
func DecodeSeq(word [8]byte) (seq uint32, ok bool) {
	for i := 7; i >= 0; i-- {
		d := Digit(word[i])
		if d < 0 {
			return 0, false
		}
		seq = seq*6 + uint32(d)
	}
	return seq, true
}

// EncodeSeq encodes seq (taken modulo SeqModulus) as a sequence word.
func EncodeSeq(seq uint32) (word [8]byte) {
	seq %= SeqModulus
	for i := 0; i < 8; i++ {
		word[i] = Alphabet[seq%6]
		seq /= 6
	}
	return word
}
