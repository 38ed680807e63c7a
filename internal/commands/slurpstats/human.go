package slurpstats

import (
	"math"
	"strconv"
	"time"

	"github.com/mmstats/mmstats/pkg/reader"
)

// humanizer formats values for people (--human), using the metadata the
// Go writer stores with each field: timestamps as dates, seconds as
// durations, bytes with binary prefixes. A nil humanizer, and values
// without such metadata, print as reader.Value.AppendText does.
type humanizer struct {
	loc *time.Location // nil: local time
}

// dateLayout is how --human prints a timestamp.
const dateLayout = "2006-01-02 15:04:05.000 MST"

func (h *humanizer) appendValue(b []byte, s *reader.Stat) []byte {
	v := s.Value
	if h == nil || !v.Kind().Numeric() || v.Kind() == reader.Bool {
		return v.AppendText(b)
	}
	f := v.Float()
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return v.AppendText(b)
	}
	switch {
	case s.Meta.Kind == reader.KindTimestamp && (s.Meta.Unit == "seconds" || s.Meta.Unit == ""):
		loc := h.loc
		if loc == nil {
			loc = time.Local
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).In(loc).AppendFormat(b, dateLayout)
	case s.Meta.Unit == "seconds":
		return append(b, roundDuration(time.Duration(f*float64(time.Second))).String()...)
	case s.Meta.Unit == "bytes":
		return appendBytes(b, f)
	}
	return v.AppendText(b)
}

// roundDuration keeps about four significant digits: 10.89879µs is
// 10.89µs, 25.5767ms is 25.57ms.
func roundDuration(d time.Duration) time.Duration {
	for unit := time.Duration(1); unit < time.Hour; unit *= 10 {
		if d < unit*10000 {
			return d.Round(unit)
		}
	}
	return d.Round(time.Second)
}

// appendBytes prints a size with a binary prefix and one decimal: 512 B,
// 1.5 KiB, 3.0 MiB.
func appendBytes(b []byte, n float64) []byte {
	const prefixes = "KMGTPE"
	if math.Abs(n) < 1024 {
		b = strconv.AppendFloat(b, n, 'f', -1, 64)
		return append(b, " B"...)
	}
	i := -1
	for math.Abs(n) >= 1024 && i < len(prefixes)-1 {
		n /= 1024
		i++
	}
	b = strconv.AppendFloat(b, n, 'f', 1, 64)
	return append(b, ' ', prefixes[i], 'i', 'B')
}
