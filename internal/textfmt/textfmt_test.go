package textfmt

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestPythonFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0:                  "0.0",
		3:                  "3.0",
		-0.001:             "-0.001",
		0.0001:             "0.0001",
		0.00001:            "1e-05",
		1e15:               "1000000000000000.0",
		1e16:               "1e+16",
		1.5e300:            "1.5e+300",
		1795635079.2237644: "1795635079.2237644",
	} {
		if got := string(AppendPythonFloat(nil, f)); got != want {
			t.Errorf("AppendPythonFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":     `"plain"`,
		`q"b\`:      `"q\"b\\"`,
		"<&>":       `"<&>"`,
		"nl\n":      `"nl\n"`,
		"\x1b[0m é": `"\u001b[0m é"`,
	} {
		if got := string(AppendJSONString(nil, in)); got != want {
			t.Errorf("AppendJSONString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "web.stats.requests", "/tmp/a b/c.mmstats", `quote"`, `back\slash`,
		"<tag>&", "tab\there", "nl\n", "\x00", "\x7f", "ünïcödé", "\u2028"} {
		b := AppendJSONString([]byte("x"), s)
		var back string
		if err := json.Unmarshal(b[1:], &back); err != nil || back != s || b[0] != 'x' {
			t.Errorf("%q: %s does not decode back (%v)", s, b, err)
		}
		if strings.Contains(s, "<") && !strings.Contains(string(b), "<") {
			t.Errorf("%q: HTML characters escaped: %s", s, b)
		}
	}
}
