//go:build unix

package test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
)

// tools are the binaries scripts/install installs.
var tools = []string{"cleanstats", "mmash", "mmstats-demo", "pollstats", "slurpstats"}

// installed is where each file of a tool goes under PREFIX.
func installed(tool string) []string {
	return []string{
		"bin/" + tool,
		"share/man/man1/" + tool + ".1",
		"share/bash-completion/completions/" + tool,
		"share/zsh/site-functions/_" + tool,
		"share/fish/vendor_completions.d/" + tool + ".fish",
	}
}

// manName is the NAME line of pollstats(1) as man formats it.
var manName = regexp.MustCompile(`(?m)^NAME\n\s+pollstats\s+-\s+\S`)

// need returns path, or fails naming the Debian package that has it:
// scripts/test installs it when run as root.
func need(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("this test needs %s (%v): run `apt-get install %s` as root (scripts/test does it when run as root)", path, err, pkg)
	}
	return path
}

// install runs scripts/install with args and env.
func install(t *testing.T, env []string, args ...string) {
	t.Helper()
	script := filepath.Join(testutil.Root(t), "scripts", "install")
	res := testutil.Run(t, env, script, args...)
	if res.Code != 0 {
		t.Fatalf("scripts/install %v: exit status %d\nstdout:\n%s\nstderr:\n%s", args, res.Code, res.Stdout, res.Stderr)
	}
}

// TestInstall installs the suite into a temporary PREFIX, then uses it as
// a user would, with nothing but PATH (and, for bash completion outside
// /usr/local, XDG_DATA_DIRS) pointing there: the tools run, man finds
// their pages, and bash completes their flags through bash-completion.
func TestInstall(t *testing.T) {
	t.Parallel()
	man := need(t, "/usr/bin/man", "man-db")
	bashCompletion := need(t, "/usr/share/bash-completion/bash_completion", "bash-completion")
	prefix := t.TempDir()
	install(t, nil, prefix)

	for _, tool := range tools {
		for _, rel := range installed(tool) {
			fi, err := os.Stat(filepath.Join(prefix, rel))
			if err != nil {
				t.Error(err)
				continue
			}
			mode := os.FileMode(0o644)
			if strings.HasPrefix(rel, "bin/") {
				mode = 0o755
			}
			if fi.Mode() != mode || fi.Size() == 0 {
				t.Errorf("%s: mode %v, %d bytes; want %v and some content", rel, fi.Mode(), fi.Size(), mode)
			}
		}
	}
	path := "PATH=" + filepath.Join(prefix, "bin") + ":" + os.Getenv("PATH")
	if res := testutil.Run(t, nil, filepath.Join(prefix, "bin", "slurpstats"), "--version"); res.Code != 0 || !strings.HasPrefix(res.Stdout, "slurpstats ") {
		t.Errorf("installed slurpstats --version: exit status %d, %q", res.Code, res.Stdout)
	}

	// man-db finds PREFIX/share/man from PREFIX/bin in PATH.
	env := []string{path, "MANPATH=", "MANPAGER=cat", "MANWIDTH=80", "LC_ALL=C.UTF-8"}
	page := filepath.Join(prefix, "share", "man", "man1", "pollstats.1")
	if res := testutil.Run(t, env, man, "-w", "pollstats"); res.Code != 0 || strings.TrimSpace(res.Stdout) != page {
		t.Errorf("man -w pollstats: exit status %d, %q; want %s\n%s", res.Code, res.Stdout, page, res.Stderr)
	}
	if res := testutil.Run(t, env, man, "pollstats"); res.Code != 0 || !manName.MatchString(res.Stdout) {
		t.Errorf("man pollstats: exit status %d, stdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}

	// bash-completion loads PREFIX/share/bash-completion/completions/TOOL
	// on the first Tab, and the function calls the installed binary.
	script := `. "$1"
_completion_loader slurpstats
complete -p slurpstats
comp() {
	COMP_LINE=$1 COMP_POINT=${#1}
	read -ra COMP_WORDS <<< "$1"
	[[ $1 == *" " ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	__start_slurpstats 2>/dev/null
	echo "$1=>${COMPREPLY[*]}"
}
comp "slurpstats --out"
comp "slurpstats -o "
`
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script, "bash", bashCompletion)
	cmd.Env = append(os.Environ(), path, "XDG_DATA_DIRS="+filepath.Join(prefix, "share"), "HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bash: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"complete -o default -F __start_slurpstats slurpstats\n",
		"slurpstats --out=>--output\n",
		"slurpstats -o =>text table json",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("bash completion: no %q in\n%s\nstderr:\n%s", want, stdout.String(), stderr.String())
		}
	}
	for _, tool := range tools {
		for shell, head := range map[string]string{
			"share/zsh/site-functions/_" + tool:                 "#compdef " + tool,
			"share/fish/vendor_completions.d/" + tool + ".fish": "# fish completion for " + tool,
		} {
			b, err := os.ReadFile(filepath.Join(prefix, shell))
			if err == nil && !bytes.HasPrefix(b, []byte(head)) {
				t.Errorf("%s does not start with %q", shell, head)
			}
		}
	}
}

// TestInstallDestDir stages an install for /usr/local under DESTDIR, as a
// package build does: every file lands under DESTDIR, and none of them
// mentions DESTDIR.
func TestInstallDestDir(t *testing.T) {
	t.Parallel()
	destdir := t.TempDir()
	install(t, []string{"DESTDIR=" + destdir}, "/usr/local")
	var want []string
	for _, tool := range tools {
		for _, rel := range installed(tool) {
			want = append(want, filepath.Join("usr/local", rel))
		}
	}
	var got []string
	err := filepath.WalkDir(destdir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(destdir, p)
		got = append(got, rel)
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(destdir)) {
			t.Errorf("%s mentions DESTDIR %s", rel, destdir)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	slices.Sort(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("files under DESTDIR:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
