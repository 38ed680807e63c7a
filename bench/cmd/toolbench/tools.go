package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// toolResults is what `toolbench tools` writes: one entry per size.
type toolResults struct {
	Root        string // where the files were: /dev/shm or the temp dir
	FileSize    int    // bytes of each file
	MaxMapCount int    // vm.max_map_count during the run
	Sizes       []sizeResults
}

// sizeResults are the measures over one set of files.
type sizeResults struct {
	Files int

	Slurp measure // slurpstats DIR (text output, into a pipe)
	Cat   measure // cat FILE... of the same files: the anchor

	// pollstats -c K -d 0.05 for two K: the CPU difference divided by
	// the difference of K is the CPU of one interval, without the start.
	PollK         [2]int
	Poll          [2]measure
	PollCPU       time.Duration // per interval
	PollWall      time.Duration // per interval, minus the delay slept
	PollCopies    bool          // more files than vm.max_map_count: some read from a copy
	PollT         pollTargets   // 4 counters, against an anchor (pollstats.go)
	CleanStale    int           // files cleanstats removes per run (the other half is live)
	Clean         measure       // cleanstats -q DIR
	Rm            measure       // rm FILE... of the stale half: the anchor
	CleanVerified bool          // exactly the stale files went, every live one stayed
	CleanAnchor   cleanAnchor   // a minimal safe cleaner, against rm again (clean.go)

	Errors map[string]string // by tool: why its measure could not be taken
}

func toolsMain(args []string) error {
	fs := flag.NewFlagSet("tools", flag.ExitOnError)
	bin := fs.String("bin", "", "directory of the built slurpstats, pollstats and cleanstats")
	out := fs.String("out", "", "file to write the results (JSON) to")
	sizes := fs.String("sizes", "1000,10000,100000", "numbers of files")
	reps := fs.Int("reps", 5, "runs of each measure (3 above 10,000 files; cleanstats 1)")
	only := fs.String("tools", "slurpstats,pollstats,cleanstats", "the tools to measure")
	fs.Parse(args)
	if *bin == "" || *out == "" {
		return fmt.Errorf("tools needs -bin and -out")
	}
	data, err := template()
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	root := scratchRoot()
	res := toolResults{Root: root, FileSize: len(data), MaxMapCount: maxMapCount()}
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 2 {
			return fmt.Errorf("bad size %q", s)
		}
		r, err := measureSize(*bin, root, data, n, *reps, strings.Split(*only, ","))
		if err != nil {
			return fmt.Errorf("%d files: %w", n, err)
		}
		res.Sizes = append(res.Sizes, r)
	}
	j, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(j, '\n'), 0o644)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s toolbench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// measureSize measures every tool over n copies of data. A tool that
// fails is recorded in Errors and the others are still measured.
func measureSize(bin, root string, data []byte, n, reps int, tools []string) (r sizeResults, err error) {
	r.Files, r.Errors = n, map[string]string{}
	if n > 10000 {
		reps = min(reps, 3)
	}
	dir, err := os.MkdirTemp(root, fmt.Sprintf("toolbench-%d-", n))
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	all := span(0, n, 1)
	start := time.Now()
	if err := writeCopies(dir, data, all); err != nil {
		return r, err
	}
	logf("%d files of %d bytes written in %s in %v", n, len(data), dir, time.Since(start).Round(time.Millisecond))
	paths := make([]string, n)
	for i := range all {
		paths[i] = filepath.Join(dir, fileName(i))
	}
	for _, m := range []struct {
		tool string
		f    func(*sizeResults, string, string, []string, []byte, int) error
	}{{"slurpstats", measureSlurp}, {"pollstats", measurePoll}, {"cleanstats", measureClean}} {
		if !slices.Contains(tools, m.tool) {
			r.Errors[m.tool] = "not measured (-tools)"
			continue
		}
		if err := m.f(&r, filepath.Join(bin, m.tool), dir, paths, data, reps); err != nil {
			r.Errors[m.tool] = err.Error()
			logf("%d files: %s FAILED: %v", n, m.tool, err)
		}
	}
	return r, nil
}

// measureSlurp runs slurpstats DIR against cat of the same files,
// interleaved, after one warm-up run of each.
func measureSlurp(r *sizeResults, tool, dir string, paths []string, _ []byte, reps int) error {
	var slurp, cat []sample
	for i := -1; i < reps; i++ {
		c, err := runChunks("cat", nil, paths)
		if err != nil {
			return err
		}
		s, err := run(tool, []string{dir})
		if err != nil {
			return err
		}
		if i >= 0 {
			cat, slurp = append(cat, c), append(slurp, s)
		}
	}
	r.Slurp, r.Cat = summarize(len(paths), slurp), summarize(len(paths), cat)
	logf("%d files: slurpstats %v, cat %v (wall, median of %d)", len(paths), r.Slurp.Wall, r.Cat.Wall, reps)
	return nil
}

// measurePoll runs pollstats -c K for two K, interleaved; the CPU
// difference over the difference of K is the CPU of one interval. It
// starts once the directory is older than pollstats's racy window (1 s):
// in the steady state an interval costs one stat of the directory, not a
// listing.
func measurePoll(r *sizeResults, tool, dir string, paths []string, _ []byte, reps int) error {
	n := len(paths)
	if st, err := os.Stat(dir); err == nil {
		time.Sleep(time.Until(st.ModTime().Add(1500 * time.Millisecond)))
	}
	r.PollK = [2]int{3, 23}
	if n > 10000 {
		r.PollK = [2]int{2, 7}
	}
	r.PollCopies = n > maxMapCount()
	const delay = 50 * time.Millisecond
	var polls [2][]sample
	for range reps {
		for k, count := range r.PollK {
			s, err := run(tool, []string{"-c", strconv.Itoa(count), "-d", "0.05", "-p", "web.stats", pollFields, dir})
			if err != nil {
				return err
			}
			polls[k] = append(polls[k], s)
		}
	}
	r.Poll = [2]measure{summarize(n, polls[0]), summarize(n, polls[1])}
	intervals := time.Duration(r.PollK[1] - r.PollK[0])
	r.PollCPU = (r.Poll[1].CPU - r.Poll[0].CPU) / intervals
	r.PollWall = (r.Poll[1].Wall-r.Poll[0].Wall)/intervals - delay
	logf("%d files: pollstats %v CPU per interval", n, r.PollCPU)
	return measurePollTargets(r, tool, dir, n, reps)
}

// measureClean runs cleanstats -q DIR where the even files are live
// (their locks held, as their writers would) and the odd ones stale,
// against rm of the stale ones, and checks that exactly those went.
func measureClean(r *sizeResults, tool, dir string, paths []string, data []byte, reps int) error {
	n := len(paths)
	live, stale := span(0, n, 2), span(1, n, 2)
	stalePaths := pick(paths, stale)
	h, err := holdLocks(pick(paths, live))
	if err != nil {
		return err
	}
	defer h.release()
	if n > 10000 {
		reps = 1
	}
	var cleans, rms []sample
	r.CleanStale, r.CleanVerified = len(stale), true
	for range reps {
		s, err := runChunks("rm", []string{"-f"}, stalePaths)
		if err != nil {
			return err
		}
		rms = append(rms, s)
		if err := writeCopies(dir, data, stale); err != nil {
			return err
		}
		s, err = run(tool, []string{"-q", dir})
		if err != nil {
			return err
		}
		cleans = append(cleans, s)
		if ok, err := onlyLeft(dir, live); err != nil {
			return err
		} else if !ok {
			r.CleanVerified = false
		}
		if err := writeCopies(dir, data, stale); err != nil {
			return err
		}
	}
	r.Clean, r.Rm = summarize(n, cleans), summarize(n, rms)
	measureCleanAnchor(r, dir, live, stale, data, reps)
	logf("%d files: cleanstats %v, rm of the %d stale files %v", n, r.Clean.Wall, len(stale), r.Rm.Wall)
	return nil
}

func pick(paths []string, idx []int) []string {
	out := make([]string, len(idx))
	for k, i := range idx {
		out[k] = paths[i]
	}
	return out
}

// onlyLeft reports whether dir holds exactly the files of indexes idx.
func onlyLeft(dir string, idx []int) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, err
	}
	var names, want []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, i := range idx {
		want = append(want, fileName(i))
	}
	return slices.Equal(names, want), nil
}

// maxMapCount returns vm.max_map_count, or its usual default.
func maxMapCount() int {
	b, err := os.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return 65530
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 65530
	}
	return n
}
