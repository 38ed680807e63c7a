package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/cobra"
)

func command(run func() error) *cobra.Command {
	return Setup(&cobra.Command{
		Use:  "tool",
		Args: cobra.MaximumNArgs(1),
		RunE: func(*cobra.Command, []string) error { return run() },
	})
}

func TestMainExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		err    error
		code   int
		stderr string
	}{
		{"success", nil, nil, ExitOK, ""},
		{"plain error is a failure", nil, errors.New("boom"), ExitFailure, "tool: boom\n"},
		{"reported failures", nil, Failed(), ExitFailure, ""},
		{"usage error", nil, UsageError("bad %s", "thing"), ExitUsage, "tool: bad thing\nTry 'tool --help' for more information.\n"},
		{"broken pipe is quiet", nil, fmt.Errorf("write: %w", syscall.EPIPE), ExitOK, ""},
		{"unknown flag", []string{"--nope"}, nil, ExitUsage, "tool: unknown flag: --nope\nTry 'tool --help' for more information.\n"},
		{"too many args", []string{"a", "b"}, nil, ExitUsage, "tool: accepts at most 1 arg(s), received 2\nTry 'tool --help' for more information.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := command(func() error { return tt.err })
			cmd.SetArgs(tt.args)
			var stderr bytes.Buffer
			if code := Main(cmd, &stderr); code != tt.code || stderr.String() != tt.stderr {
				t.Errorf("Main = %d, stderr %q; want %d, %q", code, stderr.String(), tt.code, tt.stderr)
			}
		})
	}
}

func TestVersionFlag(t *testing.T) {
	cmd := command(func() error { return nil })
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--version"})
	if code := Main(cmd, &out); code != 0 || !strings.HasPrefix(out.String(), "tool 0.") {
		t.Errorf("--version: %d %q", code, out.String())
	}
}

func TestColorAllowed(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	if !ColorAllowed(env(map[string]string{"TERM": "xterm"})) {
		t.Error("colour refused on a plain terminal")
	}
	if ColorAllowed(env(map[string]string{"NO_COLOR": "1", "TERM": "xterm"})) {
		t.Error("NO_COLOR ignored")
	}
	if ColorAllowed(env(map[string]string{"TERM": "dumb"})) {
		t.Error("TERM=dumb ignored")
	}
}

func TestFileSet(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.mmstats", "b.mmstats", "c.txt", "[x].mmstats"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o644)
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "z.mmstats"), nil, 0o644)
	j := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(dir, n)
		}
		return out
	}
	tests := []struct {
		name    string
		args    []string
		want    []string
		dynamic bool
	}{
		{"directory", []string{dir}, j("[x].mmstats", "a.mmstats", "b.mmstats"), true},
		{"quoted glob", []string{filepath.Join(dir, "*.mmstats")}, j("[x].mmstats", "a.mmstats", "b.mmstats"), true},
		{"files, deduplicated and sorted", j("b.mmstats", "c.txt", "b.mmstats", "a.mmstats"), j("a.mmstats", "b.mmstats", "c.txt"), false},
		{"a name with glob characters that exists", j("[x].mmstats"), j("[x].mmstats"), false},
		{"missing file kept for the tool to report", j("missing.mmstats"), j("missing.mmstats"), false},
		{"glob matching nothing", []string{filepath.Join(dir, "*.none")}, nil, true},
		{"two directories", []string{dir, sub}, append(j("[x].mmstats", "a.mmstats", "b.mmstats"), filepath.Join(sub, "z.mmstats")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := NewFileSet(tt.args)
			got, err := fs.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) || fs.Dynamic() != tt.dynamic {
				t.Errorf("Resolve = %v (dynamic %v), want %v (%v)", got, fs.Dynamic(), tt.want, tt.dynamic)
			}
		})
	}
	t.Setenv("MMSTATS_GLOB", "")
	t.Setenv("MMSTATS_PATH", sub)
	got, err := NewFileSet(nil).Resolve()
	if err != nil || !reflect.DeepEqual(got, []string{filepath.Join(sub, "z.mmstats")}) {
		t.Errorf("default glob from MMSTATS_PATH: %v %v", got, err)
	}
	t.Setenv("MMSTATS_GLOB", filepath.Join(dir, "a.*"))
	got, _ = NewFileSet(nil).Resolve()
	if !reflect.DeepEqual(got, j("a.mmstats")) {
		t.Errorf("MMSTATS_GLOB: %v", got)
	}
	if _, err := NewFileSet([]string{filepath.Join(dir, "[")}).Resolve(); err == nil {
		t.Error("bad pattern accepted")
	}
}
