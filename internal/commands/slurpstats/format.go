package slurpstats

import (
	"fmt"
	"strings"
)

// Format is an output format. It implements pflag.Value, so a bad -o
// value is a flag error (exit status 2).
type Format string

// The output formats.
const (
	FormatText  Format = "text"  // the Python slurpstats layout
	FormatTable Format = "table" // labels × files
	FormatJSON  Format = "json"  // the JSON schema of the tools
	// FormatPrometheus is the Prometheus text exposition format, for
	// node_exporter's textfile collector (see internal/prom).
	FormatPrometheus Format = "prometheus"
)

var formatNames = []string{string(FormatText), string(FormatTable), string(FormatJSON), string(FormatPrometheus)}

// String returns the format's name.
func (f *Format) String() string { return string(*f) }

// Set sets the format from its name.
func (f *Format) Set(s string) error {
	for _, n := range formatNames {
		if s == n {
			*f = Format(s)
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(formatNames, ", "))
}

// Type names the flag's value in help.
func (f *Format) Type() string { return "format" }
