package main

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// sample is one run of a child process.
type sample struct {
	Wall   time.Duration
	CPU    time.Duration // user + system, from the child's rusage
	RSSKiB int64         // ru_maxrss: the child's peak resident set
	Out    int64         // bytes written on stdout
}

// counter discards what it is given and counts it. Not an *os.File, so
// the child writes into a pipe that this process drains, as `| less` would.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// run runs name with args and returns its sample. okCodes are the exit
// statuses that count as success (default: 0 only).
func run(name string, args []string, okCodes ...int) (sample, error) {
	if len(okCodes) == 0 {
		okCodes = []int{0}
	}
	cmd := exec.Command(name, args...)
	out := &counter{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return sample{}, err
	}
	if code := cmd.ProcessState.ExitCode(); !slices.Contains(okCodes, code) {
		return sample{}, fmt.Errorf("%s %s: exit %d: %s", name, shortArgs(args), code, firstLines(stderr.String(), 3))
	}
	s := sample{Wall: wall, CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), Out: out.n}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.RSSKiB = ru.Maxrss // kilobytes on Linux
	}
	return s, nil
}

// runChunks runs name over paths in chunks that fit the argument list
// limit, one after the other, and adds up their samples (peak RSS is the
// largest). The anchors cat and rm are run this way.
func runChunks(name string, flags []string, paths []string) (sample, error) {
	const chunk = 10000
	var total sample
	for start := 0; start < len(paths); start += chunk {
		s, err := run(name, append(slices.Clone(flags), paths[start:min(start+chunk, len(paths))]...))
		if err != nil {
			return sample{}, err
		}
		total.Wall += s.Wall
		total.CPU += s.CPU
		total.Out += s.Out
		total.RSSKiB = max(total.RSSKiB, s.RSSKiB)
	}
	return total, nil
}

// measure is the summary of several samples: median wall and CPU times,
// the largest peak RSS.
type measure struct {
	Files  int
	Runs   int
	Wall   time.Duration
	CPU    time.Duration
	RSSKiB int64
	Out    int64
}

func summarize(files int, ss []sample) measure {
	m := measure{Files: files, Runs: len(ss)}
	var walls, cpus []time.Duration
	for _, s := range ss {
		walls = append(walls, s.Wall)
		cpus = append(cpus, s.CPU)
		m.RSSKiB = max(m.RSSKiB, s.RSSKiB)
		m.Out = s.Out
	}
	m.Wall, m.CPU = median(walls), median(cpus)
	return m
}

func median[T int64 | float64 | time.Duration](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func shortArgs(args []string) string {
	if len(args) > 4 {
		return strings.Join(args[:4], " ") + fmt.Sprintf(" ... (%d args)", len(args))
	}
	return strings.Join(args, " ")
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], " | ")
}
