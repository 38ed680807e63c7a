package slurpstats

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// hostileNames are a label, a string value and a file name that try to
// drive the terminal (clear the screen, set the title, colour) and to
// forge output lines with a newline.
const (
	evilLabel = "ok.label\n  forged.label 999\x1b]0;pwned\a"
	evilValue = "up\x1b[2J\ndown\u009b31m"
	evilName  = "evil\x1b[31m\n==> forged.mmstats"
)

// evilFile writes a file with the hostile label and value (and a plain
// stat) under the hostile name, and returns its directory and path.
func evilFile(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = v1file.Write(t, filepath.Join(dir, evilName),
		v1file.Unbuffered(evilLabel, "32s", v1file.Str(evilValue, 32)),
		v1file.Unbuffered("plain", "Q", v1file.U64(7)),
	)
	return dir, path
}

// noRawControls fails if s holds a control character other than newline,
// or a C1 control: what a terminal would act on.
func noRawControls(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			t.Errorf("%s holds the raw control %U:\n%q", what, r, s)
			return
		}
	}
}

// TestEscapesAreQuoted: labels, string values and file names reach text
// and table output (and stderr) through cli.Quote, so that no escape
// sequence reaches the terminal and no newline forges a line; JSON keeps
// them exact, in its own escapes.
func TestEscapesAreQuoted(t *testing.T) {
	dir, path := evilFile(t)
	qLabel, qValue := cli.Quote(evilLabel), cli.Quote(evilValue)

	text := run(t, &cli.Streams{IsTerminal: true}, dir)
	if text.code != 0 {
		t.Fatalf("text: exit %d: %s", text.code, text.stderr)
	}
	noRawControls(t, "text", text.stdout)
	want := "==> " + cli.Quote(path) + "\n" +
		"  " + qLabel + " " + qValue + "\n" +
		"  plain" + strings.Repeat(" ", len([]rune(qLabel))-len("plain")) + " 7\n\n"
	if text.stdout != want {
		t.Errorf("text: got\n%s\nwant\n%s", text.stdout, want)
	}
	if strings.Contains(text.stdout, "\n==> forged") || strings.Contains(text.stdout, "\n  forged.label") {
		t.Errorf("text: a forged line:\n%s", text.stdout)
	}

	for _, human := range []string{"-o", "-H"} {
		args := []string{"-o", "table", dir}
		if human == "-H" {
			args = append(args, "-H")
		}
		table := run(t, &cli.Streams{IsTerminal: true, Color: true}, args...)
		if table.code != 0 {
			t.Fatalf("table: exit %d: %s", table.code, table.stderr)
		}
		noRawControls(t, "table", strings.NewReplacer("\x1b[1m", "", "\x1b[0m", "").Replace(table.stdout))
		for _, s := range []string{cli.Quote(evilName), qLabel, qValue} {
			if !strings.Contains(table.stdout, s) {
				t.Errorf("table %v: no %s in\n%s", args, s, table.stdout)
			}
		}
		if n := strings.Count(table.stdout, "\n"); n != 6 { // border, header, separator, 2 rows, border
			t.Errorf("table %v: %d lines, want 6:\n%s", args, n, table.stdout)
		}
	}

	// JSON has the exact strings, escaped as JSON escapes them.
	js := run(t, nil, "--json", dir)
	for _, s := range []string{`"ok.label\n  forged.label 999\u001b]0;pwned\u0007"`, `"up\u001b[2J\ndown` + "\u009b" + `31m"`} {
		if !strings.Contains(js.stdout, s) {
			t.Errorf("json: no %s in\n%s", s, js.stdout)
		}
	}

	// A file that cannot be read is named, quoted, on stderr; so is a
	// -f pattern that matches nothing.
	bad := filepath.Join(t.TempDir(), "bad\x1b]0;x\a\n.mmstats")
	r := run(t, nil, "-f", "x\x1b", bad)
	if r.code != 1 || r.stderr != "slurpstats: "+cli.Quote(bad)+": no such file or directory\n" {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
	r = run(t, nil, "-f", "x\x1b", path)
	if r.code != 1 || r.stderr != `slurpstats: no label matches -f "x\033"`+"\n" {
		t.Errorf("no match: exit %d, stderr %q", r.code, r.stderr)
	}
}
