package pollstats

import (
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// filter is one -f: KEY matches a file with a label that starts with KEY;
// KEY=VALUE a file whose label KEY has the text VALUE (as slurpstats
// prints it: 42, 1.5, True, text).
type filter struct {
	key, value string
	exact      bool // KEY=VALUE
}

func parseFilters(args []string) []filter {
	out := make([]filter, len(args))
	for i, a := range args {
		k, v, exact := strings.Cut(a, "=")
		out[i] = filter{key: k, value: v, exact: exact}
	}
	return out
}

// matchAny reports whether f matches one of filters. Its values are read
// only for KEY=VALUE filters, and its labels gone through only for KEY
// filters.
func matchAny(f *reader.File, filters []filter) bool {
	prefixes := false
	for _, flt := range filters {
		if !flt.exact {
			prefixes = true
			continue
		}
		if i, _, ok := f.Lookup(flt.key); ok {
			if v, err := f.Value(i); err == nil && v.String() == flt.value {
				return true
			}
		}
	}
	if !prefixes {
		return false
	}
	matched := false
	scanFields(f, func(_ int, fl *reader.Field) bool {
		for _, flt := range filters {
			if !flt.exact && strings.HasPrefix(fl.Label, flt.key) {
				matched = true
				return false
			}
		}
		return true
	})
	return matched
}
