package v1

import "math"

// A histogram's buckets are exponential, as Prometheus's native
// histograms: at schema s, bucket i covers (2^((i-1)/2^s), 2^(i/2^s)]
// (upper bound included). The Go writer uses schema 6: 64 buckets per
// power of two, each 2^(1/64) = 1.0109 times wider than the one before,
// so the geometric midpoint of a bucket is within 2^(1/128)-1 = 0.543% of
// every value in it.

// Schema is the schema of the Go writer's histograms.
const Schema = 6

// MaxSchema is the finest schema a reader accepts (as Prometheus).
const MaxSchema = 8

// DescSize is the length of a bucket descriptor: 15 digits of Alphabet.
const DescSize = 15

// LoBias is added to a descriptor's first bucket index so that it is
// never negative: 6^7/2.
const LoBias = 6 * 6 * 6 * 6 * 6 * 6 * 6 / 2

// The ranges of a descriptor's numbers.
const (
	MaxDescSchema = 6*6 - 1                    // 2 digits
	MinDescLo     = -LoBias                    // 7 digits, biased
	MaxDescLo     = 6*6*6*6*6*6*6 - 1 - LoBias //
	MaxDescN      = 6*6*6*6*6*6 - 1            // 6 digits: 46655 buckets
	descSchemaLen = 2
	descLoLen     = 7
	descNLen      = 6
)

// Desc is a bucket descriptor: the schema and the window of bucket
// indexes [Lo, Lo+N) whose counts the pad bytes hold.
type Desc struct {
	Schema, Lo, N int
}

// PadSize returns the pad bytes ('x') that hold the counts of a
// descriptor of n buckets: underflow, overflow, then n counts, 8 bytes
// each.
func PadSize(n int) int { return 16 + 8*n }

// EncodeDesc returns the descriptor's digits: the schema (2 digits), Lo
// plus LoBias (7 digits) and N (6 digits), each number least significant
// digit first. ok is false if a number is out of range.
func EncodeDesc(d Desc) (b [DescSize]byte, ok bool) {
	if d.Schema < 0 || d.Schema > MaxDescSchema || d.Lo < MinDescLo || d.Lo > MaxDescLo || d.N < 0 || d.N > MaxDescN {
		return b, false
	}
	put := func(at, n, v int) {
		for i := range n {
			b[at+i] = Alphabet[v%6]
			v /= 6
		}
	}
	put(0, descSchemaLen, d.Schema)
	put(descSchemaLen, descLoLen, d.Lo+LoBias)
	put(descSchemaLen+descLoLen, descNLen, d.N)
	return b, true
}

// DecodeDesc reads a descriptor from the first DescSize bytes of raw. ok
// is false when raw is shorter or holds a byte that is not a digit; the
// numbers are not checked further (see MaxSchema).
func DecodeDesc(raw []byte) (d Desc, ok bool) {
	if len(raw) < DescSize {
		return d, false
	}
	get := func(at, n int) (int, bool) {
		v := 0
		for i := n - 1; i >= 0; i-- {
			c := Digit(raw[at+i])
			if c < 0 {
				return 0, false
			}
			v = v*6 + c
		}
		return v, true
	}
	var ok1, ok2, ok3 bool
	d.Schema, ok1 = get(0, descSchemaLen)
	d.Lo, ok2 = get(descSchemaLen, descLoLen)
	d.N, ok3 = get(descSchemaLen+descLoLen, descNLen)
	d.Lo -= LoBias
	return d, ok1 && ok2 && ok3
}

// The schema-6 bucket of a float64, from its bits, without a logarithm:
// v = m·2^e with 1 <= m < 2 is in bucket 64e + j, j the smallest in
// [0, 64] with m <= B[j] = 2^(j/64) (rounded to a float64). The top 10
// bits of m's fraction give the smallest candidate j (bucketStart); the
// bounds are at least 2^(1/64)-1 = 0.0109 apart and a slot of the table is
// 1/1024 wide, so one comparison with B[j] settles it.
var (
	octaveBound [65]uint64  // the fraction bits of B[j]; B[64] = 2 is 1<<52
	bucketStart [1024]uint8 // per top 10 fraction bits: the smallest j
)

const fracMask = 1<<52 - 1

func init() {
	for j := range 64 {
		octaveBound[j] = math.Float64bits(math.Exp2(float64(j)/64)) & fracMask
	}
	octaveBound[64] = 1 << 52
	j := 0
	for s := range bucketStart {
		for octaveBound[j] < uint64(s)<<42 {
			j++
		}
		bucketStart[s] = uint8(j)
	}
}

// Bucket6 returns the schema-6 bucket index of the positive float64 whose
// bits are given. Zero and subnormal values give indexes below -65400,
// +Inf 65536: below and above any window a writer uses, with no test on
// the hot path. NaN and negative values are the caller's to rule out.
func Bucket6(bits uint64) int {
	frac := bits & fracMask
	j := int(bucketStart[frac>>42])
	if frac > octaveBound[j] {
		j++
	}
	return (int(bits>>52&0x7ff)-1023)<<6 + j
}

// floorDiv returns q, r with i = q*d + r and 0 <= r < d (d > 0).
func floorDiv(i, d int) (q, r int) {
	q, r = i/d, i%d
	if r < 0 {
		q, r = q-1, r+d
	}
	return q, r
}

// BucketUpper returns the upper bound of bucket i at schema s (0 <= s
// <= MaxSchema): 2^(i/2^s), 0 or +Inf beyond float64's range.
func BucketUpper(s, i int) float64 {
	q, r := floorDiv(i, 1<<s)
	return math.Ldexp(math.Exp2(float64(r)/float64(int(1)<<s)), q)
}

// BucketMid returns the geometric midpoint of bucket i at schema s:
// 2^((i-1/2)/2^s), the value a quantile that lands in the bucket reports.
func BucketMid(s, i int) float64 {
	q, r := floorDiv(i, 1<<s)
	return math.Ldexp(math.Exp2((float64(r)-0.5)/float64(int(1)<<s)), q)
}

// Rank returns the 1-based rank of quantile q among n values sorted
// ascending: ceil(q·n), kept within [1, n].
func Rank(q float64, n uint64) uint64 {
	if !(q > 0) { // also NaN
		return 1
	}
	r := math.Ceil(q * float64(n))
	if r >= float64(n) {
		return n
	}
	return max(uint64(r), 1)
}

// Quantiles sets out[j] to the quantile qs[j] (ascending) of a histogram
// at schema s with under values in its underflow, buckets[k] in bucket
// first+k, and over in its overflow, whose values lie within [lo, hi]:
// the value of rank Rank(q, n), n the sum of the counts, taken as the
// geometric midpoint of its bucket kept within [lo, hi]; lo for a rank in
// the underflow, hi in the overflow. With n = 0 every quantile is 0. It
// does not allocate.
func Quantiles(s, first int, under uint64, buckets []uint64, over uint64, lo, hi float64, qs, out []float64) {
	n := under + over
	for _, c := range buckets {
		n += c
	}
	clear(out)
	if n == 0 {
		return
	}
	j := 0
	cum := under
	for ; j < len(qs) && cum >= Rank(qs[j], n); j++ {
		out[j] = lo
	}
	for k, c := range buckets {
		if c == 0 {
			continue
		}
		cum += c
		for ; j < len(qs) && cum >= Rank(qs[j], n); j++ {
			out[j] = clamp(BucketMid(s, first+k), lo, hi)
		}
		if j == len(qs) {
			return
		}
	}
	for ; j < len(qs); j++ {
		out[j] = hi
	}
}

// clamp keeps v within [lo, hi] (hi wins if lo > hi).
func clamp(v, lo, hi float64) float64 { return math.Min(math.Max(v, lo), hi) }
