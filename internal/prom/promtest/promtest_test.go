package promtest

import (
	"fmt"
	"testing"
)

// recorder records the failures that Parse reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestParseCatches(t *testing.T) {
	tests := map[string]string{
		"split group": "# HELP a x\n# TYPE a untyped\na 1\n# HELP b x\n# TYPE b untyped\nb 1\na{l=\"2\"} 2\n",
		"duplicate":   "# HELP a x\n# TYPE a untyped\na{l=\"1\"} 1\na{l=\"1\"} 2\n",
		"no help":     "a 1\n",
		"type first":  "# TYPE a untyped\n# HELP a x\na 1\n",
		"blank line":  "# HELP a x\n# TYPE a untyped\na 1\n\n",
	}
	for name, text := range tests {
		r := &recorder{TB: t}
		Parse(r, text)
		if len(r.errs) == 0 {
			t.Errorf("%s: no error for %q", name, text)
		}
	}
	r := &recorder{TB: t}
	Parse(r, "# HELP a x\n# TYPE a untyped\na{l=\"1\"} 1\na{l=\"2\"} 2\n# HELP b x\n# TYPE b gauge\nb 1\n")
	if len(r.errs) != 0 {
		t.Errorf("errors for valid text: %v", r.errs)
	}
}
