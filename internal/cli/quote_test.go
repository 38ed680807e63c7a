package cli

import "testing"

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"web.stats.status.2XX", "web.stats.status.2XX"},
		{"/tmp/a b.mmstats", "/tmp/a b.mmstats"},
		{"héllo → ✓", "héllo → ✓"},
		{"", ""},
		{"a\nb", `"a\nb"`},
		{"\x1b[31mred", `"\033[31mred"`},
		{"tab\there", `"tab\there"`},
		{"q\"\x7f", `"q\"\177"`},
		{"bad\xffutf8", `"bad\377utf8"`},
		{"c1\u009bx", `"c1\302\233x"`},
		{"ls\u2028x", `"ls\342\200\250x"`},
		{"back\\slash\r", `"back\\slash\r"`},
	} {
		if got := Quote(tc.in); got != tc.want {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.want)
		}
		if NeedsQuote(tc.in) != (tc.in != tc.want) {
			t.Errorf("NeedsQuote(%q) disagrees with Quote", tc.in)
		}
	}
}

func FuzzQuote(f *testing.F) {
	f.Add("a\x1b[2Jb")
	f.Fuzz(func(t *testing.T, s string) {
		q := Quote(s)
		for i := 0; i < len(q); i++ {
			if c := q[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("Quote(%q) = %q keeps a control byte", s, q)
			}
		}
	})
}
