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
// only for KEY=VALUE filters.
func matchAny(f *reader.File, filters []filter) bool {
	if len(filters) == 0 {
		return false
	}
	matched := false
	f.ScanFields(func(i int, fl *reader.Field) bool {
		for _, flt := range filters {
			if !flt.exact {
				matched = strings.HasPrefix(fl.Label, flt.key)
			} else if fl.Label == flt.key {
				v, err := f.Value(i)
				matched = err == nil && v.String() == flt.value
			}
			if matched {
				return false
			}
		}
		return true
	})
	return matched
}
