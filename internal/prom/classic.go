package prom

import (
	"fmt"
	"math"
	"strconv"

	"github.com/spf13/pflag"
)

// ClassicSchema is the resolution of the classic buckets
// (…_bucket{le="…"}) of an exported histogram: schema n has the bounds
// 2^(k/2^n), 2^n per power of two, as native-histogram schema n does.
// Schema 0, the default, has the powers of two (Prometheus's
// ExponentialBuckets with factor 2); MaxClassicSchema, 8 per power of
// two, is the finest.
//
// Each bound is a bound of the writer's schema-6 buckets, so the
// cumulative counts are exact: the count at le="x" is the number of
// values at or below x. What a coarser schema loses is where a value
// lies inside its bucket, which histogram_quantile interpolates
// linearly: its result lies in the bucket that holds the exact
// quantile, so within 2^(2^-n)-1 of it (relative; QuantileError): 100%
// at schema 0, 41% at 1, 19% at 2, 9.05% at 3. What a finer one costs
// is series: a Timer's default range (2^-22 s to 256 s, 30 powers of
// two) has 31 bounds at schema 0 and 241 at schema 3, each a series of
// every file in Prometheus and a line of every scrape. The native
// histogram of the protobuf format keeps the writer's schema 6 whatever
// this is: within 2^(1/64)-1 = 1.09%.
//
// The bounds of a histogram are every bound of its schema inside its
// window, empty or full, the same at every scrape and for every file of
// one program, so that series neither come nor go (rate) and the files
// sum by le.
//
// A ClassicSchema is a pflag.Value: the --classic-schema flag of mmash
// and slurpstats (AddClassicSchemaFlag).
type ClassicSchema int

// The classic schemas.
const (
	// DefaultClassicSchema is the resolution of a Set's classic buckets
	// unless told otherwise: the powers of two.
	DefaultClassicSchema ClassicSchema = 0
	// MaxClassicSchema is the finest: 8 bounds per power of two.
	MaxClassicSchema ClassicSchema = 3
)

// QuantileError is the largest relative error of histogram_quantile
// over classic buckets of schema c: 2^(2^-c)-1.
func (c ClassicSchema) QuantileError() float64 { return math.Exp2(math.Exp2(-float64(c))) - 1 }

// String returns the schema's number.
func (c *ClassicSchema) String() string { return strconv.Itoa(int(*c)) }

// Set parses a schema: 0 to MaxClassicSchema.
func (c *ClassicSchema) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > int(MaxClassicSchema) {
		return fmt.Errorf("must be 0, 1, 2 or 3 (2^N classic buckets per power of two)")
	}
	*c = ClassicSchema(n)
	return nil
}

// Type names the flag's value in help.
func (c *ClassicSchema) Type() string { return "N" }

// ClassicSchemaFlag is the name of the flag of AddClassicSchemaFlag.
const ClassicSchemaFlag = "classic-schema"

// AddClassicSchemaFlag adds --classic-schema N to fs, bound to c, with
// c's value as its default.
func AddClassicSchemaFlag(fs *pflag.FlagSet, c *ClassicSchema) {
	fs.Var(c, ClassicSchemaFlag, "Prometheus histograms: 2^N classic buckets (_bucket{le=...}) per power of two, 0 to 3; "+
		"histogram_quantile is within 100% of the exact value at 0, 41% at 1, 19% at 2, 9.05% at 3 "+
		"(e.g. --classic-schema 3: 241 series per Timer and file instead of 31)")
}
