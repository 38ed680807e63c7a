package pollstats

import (
	"fmt"
	"strings"

	"github.com/mmstats/mmstats/internal/cli"
)

// column is one field shown.
type column struct {
	name  string // the field as given: the header
	label string // the label it resolved to
}

// joins returns the labels that field may mean with prefix, in the order
// they are tried: prefix+field, then prefix.field.
func joins(prefix, field string) []string {
	if prefix == "" {
		return []string{field}
	}
	out := []string{prefix + field}
	if !strings.HasSuffix(prefix, ".") && !strings.HasPrefix(field, ".") {
		out = append(out, prefix+"."+field)
	}
	return out
}

// labelSet is what the files read at start have: each label, and whether
// some file holds it as a string.
type labelSet map[string]bool

// resolveColumns decides once, for each field, which join of the prefix
// names an existing label (labels holds at least every join). A field
// that no file has, or that is a string, is a usage error naming it,
// with suggestions from all (called only then).
func resolveColumns(fields []string, prefix string, labels labelSet, all func() []string) ([]column, error) {
	cols := make([]column, len(fields))
	var problems []string
	var known []string
	for i, f := range fields {
		cols[i].name = f
		tried := joins(prefix, f)
		for _, l := range tried {
			if _, ok := labels[l]; ok {
				cols[i].label = l
				break
			}
		}
		switch l := cols[i].label; {
		case l == "":
			if known == nil {
				known = all()
			}
			problems = append(problems, unknownField(f, prefix, tried, known))
		case labels[l]:
			problems = append(problems, stringField(f, l))
		}
	}
	if len(problems) > 0 {
		// One line each, prefixed like the first, which cli.Main prefixes.
		return nil, cli.UsageError("%s", strings.Join(problems, "\npollstats: "))
	}
	return cols, nil
}

func stringField(field, label string) string {
	if field == label {
		return fmt.Sprintf("field %q is a string: pollstats shows numbers (slurpstats prints strings)", field)
	}
	return fmt.Sprintf("field %q (%s) is a string: pollstats shows numbers (slurpstats prints strings)", field, label)
}

// unknownField describes a field that no file has, with the labels that
// come closest.
func unknownField(field, prefix string, tried []string, all []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "no file has the field %q", field)
	if prefix != "" {
		fmt.Fprintf(&b, " (%s)", strings.Join(tried, " or "))
	}
	near, nearest := suggest(field, prefix, all)
	switch {
	case len(near) > 0:
		fmt.Fprintf(&b, "; did you mean %s?", quoteList(near, "or"))
	case len(nearest) > 0:
		fmt.Fprintf(&b, "; the closest labels are %s", quoteList(nearest, "and"))
	}
	return b.String()
}

// quoteList returns "a", "b" or "c".
func quoteList(items []string, conj string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
}
