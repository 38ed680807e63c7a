//go:build unix

package test

// Terminal escape injection: labels, string values and file names are
// chosen by whoever writes a stats file (any local user, in /tmp). The
// human-readable output of the readers must not let them drive the
// terminal (clear it, set its title, recolour it) or forge output lines.

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// controls returns the first raw control character in s other than
// newline, or 0: what a terminal would act on.
func controls(s string) rune {
	for _, r := range s {
		if (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return r
		}
	}
	return 0
}

func TestEscapesNeverReachTheTerminal(t *testing.T) {
	const (
		label = "web.ok\n  forged.label 999\x1b]0;pwned\a"
		value = "up\x1b[2J\ndown\u009b31m"
		name  = "evil\x1b[31m\n==> forged.mmstats"
	)
	dir := testutil.SharedDir(t, 0o755)
	path := v1file.Write(t, filepath.Join(dir, name),
		v1file.Unbuffered(label, "32s", v1file.Str(value, 32)),
		v1file.Unbuffered(counterLabel, "Q", v1file.U64(42)))
	broken := testutil.WriteFile(t, dir, "broken\x1b]0;x\a\nslurpstats: forged.mmstats", []byte{7, 7, 7})

	for _, args := range [][]string{{dir}, {"-o", "table", dir}, {"-H", dir}, {"-v", "-o", "table", "-H", dir}} {
		r := testutil.Run(t, nil, slurpstats(t), args...)
		noCrash(t, "slurpstats", r.Stderr)
		if r.Code != 1 {
			t.Errorf("slurpstats %v: exit %d, want 1 (the broken file)", args, r.Code)
		}
		for what, s := range map[string]string{"stdout": r.Stdout, "stderr": r.Stderr} {
			if c := controls(s); c != 0 {
				t.Errorf("slurpstats %v: raw %U on %s:\n%q", args, c, what, s)
			}
			for _, l := range strings.Split(s, "\n") {
				if strings.HasPrefix(l, "==> forged") || strings.HasPrefix(l, "  forged.label") || strings.HasPrefix(l, "slurpstats: forged") {
					t.Errorf("slurpstats %v: a forged line on %s: %q", args, what, l)
				}
			}
		}
		for _, s := range []string{cli.Quote(label), cli.Quote(value)} {
			if !strings.Contains(r.Stdout, s) {
				t.Errorf("slurpstats %v: %s not shown (quoted) in\n%s", args, s, r.Stdout)
			}
		}
		if !strings.Contains(r.Stderr, "slurpstats: "+cli.Quote(broken)+": ") {
			t.Errorf("slurpstats %v: the broken file is not named, quoted:\n%s", args, r.Stderr)
		}
	}

	// JSON keeps the exact text, in JSON's escapes.
	r := testutil.Run(t, nil, slurpstats(t), "--json", path)
	var files []struct {
		Path  string
		Stats []struct{ Label, Value any }
	}
	if err := json.Unmarshal([]byte(r.Stdout), &files); err != nil || len(files) != 1 {
		t.Fatalf("json: %v\n%s", err, r.Stdout)
	}
	if f := files[0]; f.Path != path || f.Stats[0].Label != label || f.Stats[0].Value != value {
		t.Errorf("json changed the text: %+v", f)
	}

	// pollstats names the files it warns about, quoted.
	r = testutil.Run(t, nil, pollstats(t), "-vv", "-a", "-c", "1", "-d", "0.05", counterLabel, dir)
	noCrash(t, "pollstats", r.Stderr)
	if r.Code != 0 || strings.TrimSpace(lines(r.Stdout)[1]) != "42" {
		t.Errorf("pollstats: exit %d:\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if c := controls(r.Stdout + r.Stderr); c != 0 {
		t.Errorf("pollstats: raw %U in\n%q\n%q", c, r.Stdout, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "pollstats: "+cli.Quote(broken)+": ") {
		t.Errorf("pollstats: the broken file is not named, quoted:\n%s", r.Stderr)
	}
	for _, l := range lines(r.Stderr) {
		if strings.HasPrefix(l, "slurpstats: forged") {
			t.Errorf("pollstats: a forged line: %q", l)
		}
	}
}
