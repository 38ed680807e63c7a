package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestCommand: a command finished by Command prints its help and errors
// on the streams it was given, and fake terminals say so.
func TestCommand(t *testing.T) {
	streams, out, errb := TestStreams()
	if streams.IsTerminal || streams.Color || streams.Width() != 0 {
		t.Errorf("test streams are a terminal: %+v", streams)
	}
	cmd := Command(&cobra.Command{Use: "tool", Long: "Does things.", RunE: func(*cobra.Command, []string) error { return nil }}, streams)
	cmd.SetArgs([]string{"--help"})
	if code := Main(cmd, errb); code != 0 || !strings.Contains(out.String(), "Does things.") {
		t.Errorf("--help: exit %d, stdout %q", code, out.String())
	}
	streams.SetTerminal(120, true)
	if !streams.IsTerminal || !streams.Color || streams.Width() != 120 {
		t.Errorf("SetTerminal: %+v", streams)
	}
}

// TestFileSetArgs: the classification that Resolve, pollstats and
// cleanstats share.
func TestFileSetArgs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "[x].mmstats")
	os.WriteFile(file, nil, 0o644)
	args, err := NewFileSet([]string{dir, file, filepath.Join(dir, "*.mmstats"), "a*.mmstats", filepath.Join(dir, "missing")}).Args()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		kind         ArgKind
		dir, pattern string
	}{
		{Dir, dir, "*.mmstats"},
		{File, "", ""},
		{Glob, dir + "/", "*.mmstats"},
		{Glob, "", "a*.mmstats"},
		{File, "", ""},
	}
	for i, a := range args {
		if a.Kind != want[i].kind {
			t.Errorf("%s: kind %d, want %d", a.Path, a.Kind, want[i].kind)
			continue
		}
		if a.Kind == File {
			continue
		}
		if d, p := a.Split(); d != want[i].dir || p != want[i].pattern {
			t.Errorf("%s: Split = %q, %q; want %q, %q", a.Path, d, p, want[i].dir, want[i].pattern)
		}
	}
	if _, err := NewFileSet([]string{filepath.Join(dir, "[", "*.mmstats")}).Args(); err == nil {
		t.Error("a bad pattern in the directory part was accepted")
	}
}
