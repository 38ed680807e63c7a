package main

// The targets of pollstats (issue 15): the CPU of one interval over the
// files with 4 counters, the anonymous memory it holds at 100,000 files,
// both next to an anchor measured in the same run.
//
// The anchor is pollanchor, a minimal poller in this binary: it finds the
// offsets of the same 4 counters once (all the files are copies of one),
// maps each file once, and each interval loads the 4 words of each file
// and adds them up; past the mapping budget that pollstats's reader
// keeps (vm.max_map_count less a sixteenth, at least 4,096 left), it
// preads the 4 words through a descriptor held open, as many as
// pollstats holds (the descriptor limit less 512), and past those opens,
// preads and closes each file every interval. No parsing, no
// checks, no output: what any poller of these files must spend at least,
// so the ratio says what pollstats costs above the unavoidable.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/mmstats/mmstats/pkg/reader"
)

// pollCounters are the columns of the pollstats target runs (-p web.stats):
// 4 counters.
const pollCounters = "status.2XX,status.3XX,status.4XX,status.5XX"

// pollTargets are the measures of the pollstats targets over one set of
// files.
type pollTargets struct {
	Skip, Intervals int           // the CPU of intervals Skip+1 to Skip+Intervals of a running poller
	CPU             time.Duration // pollstats, 4 counters: CPU per interval
	AnchorCPU       time.Duration // pollanchor: CPU per interval
	RssAnonKiB      int64         // pollstats, 4 counters: peak RssAnon (/proc/PID/status), its children's (the mapping helper) added
	RssFileKiB      int64         // and their RssFile + RssShmem then: the files' pages mapped
	HelperCPU       time.Duration `json:",omitempty"` // of CPU: pollstats' children's (its mapping helper), per interval
	HelperAnonKiB   int64         `json:",omitempty"` // of RssAnon: its children's, at their peak
	AnchorAnon      int64         // pollanchor's peak RssAnon
	Mapped          int           // files the anchor maps (the rest: pread)
	Held            int           // files the anchor preads through a held descriptor (the rest: opened each time)
	Runs            int
	AnchorError     string `json:",omitempty"`
}

// measurePollTargets runs pollstats with 4 counters and the anchor,
// interleaved, reps times each, and takes the CPU of their intervals
// once they run: from the end of an interval past the start-up to the
// end of one Intervals later, as the CPU time of the poller's threads
// (/proc/PID/task/*/schedstat, in nanoseconds). The start-up (some 4 s
// of CPU at 100,000 files, give or take half a second from run to run)
// and the exit are not in it: the difference of two runs of -c K and
// -c K' had them both, and their noise, over K'-K intervals.
func measurePollTargets(r *sizeResults, tool, dir string, n, reps int) error {
	t := &r.PollT
	t.Skip, t.Intervals = 5, 80
	if n > 10000 {
		t.Intervals = 40
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	c := strconv.Itoa(t.Skip + t.Intervals + 2)
	var polls, anchors, helpers []time.Duration
	for range reps {
		r, err := runSteady(tool, []string{"-c", c, "-d", "0.05", "-p", "web.stats", pollCounters, dir}, t.Skip, t.Intervals)
		if err != nil {
			return err
		}
		polls, helpers = append(polls, r.cpu), append(helpers, r.childCPU)
		t.RssAnonKiB, t.RssFileKiB = max(t.RssAnonKiB, r.anon), max(t.RssFileKiB, r.file)
		t.HelperAnonKiB = max(t.HelperAnonKiB, r.childAnon)
		a, err := runSteady(self, []string{"pollanchor", "-c", c, "-d", "0.05", dir}, t.Skip, t.Intervals)
		if err != nil {
			t.AnchorError = err.Error()
			continue
		}
		anchors = append(anchors, a.cpu)
		t.AnchorAnon = max(t.AnchorAnon, a.anon)
	}
	t.Runs = reps
	t.Mapped = min(n, anchorMapBudget())
	t.Held = min(n-t.Mapped, anchorFDBudget())
	t.CPU, t.HelperCPU = median(polls), median(helpers)
	if t.AnchorError == "" {
		t.AnchorCPU = median(anchors)
	}
	logf("%d files: pollstats (4 counters) %v CPU per interval (runs %v; its child processes', the mapping helper's, included: %v), anchor %v (runs %v); "+
		"peak RssAnon %d KiB (its children's included: %d KiB at their peak)", n, t.CPU, polls, helpers, t.AnchorCPU, anchors, t.RssAnonKiB, t.HelperAnonKiB)
	return nil
}

// steadyRun is what runSteady measured of a poller.
type steadyRun struct {
	cpu       time.Duration // per interval, its children's included
	childCPU  time.Duration // of cpu: its children's
	anon      int64         // peak RssAnon, its children's added (KiB)
	file      int64         // RssFile + RssShmem then, its children's added
	childAnon int64         // its children's peak RssAnon
}

// runSteady runs a poller that prints a line of numbers each interval
// (its header lines are not counted), and returns the CPU time of its
// threads from the end of its skip-th interval to the end of its
// skip+n-th, divided by n, with its peak RssAnon and RssFile+RssShmem
// over the whole run (KiB), sampled every 10 ms. Its child processes
// (pollstats' mapping helper, /proc/PID/task/*/children) are counted
// with it: their threads' CPU, their memory at each sample.
func runSteady(name string, args []string, skip, n int) (r steadyRun, err error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	pid := cmd.Process.Pid
	done := make(chan struct{})
	var peakAnon, peakFile, peakChild atomic.Int64
	go func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if a, f, ok := rssOf(pid); ok {
				var ca, cf int64
				for _, c := range childrenOf(pid) {
					a1, f1, _ := rssOf(c)
					ca, cf = ca+a1, cf+f1
				}
				if a+ca > peakAnon.Load() {
					peakAnon.Store(a + ca)
					peakFile.Store(f + cf)
				}
				peakChild.Store(max(peakChild.Load(), ca))
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	sc := bufio.NewScanner(out)
	lines := 0
	var from, to, cfrom, cto time.Duration
	for sc.Scan() {
		if !numbersLine(sc.Text()) {
			continue
		}
		lines++
		switch lines {
		case skip:
			from, cfrom = threadsCPU(pid), childrenCPU(pid)
		case skip + n:
			to, cto = threadsCPU(pid), childrenCPU(pid)
		}
	}
	werr := cmd.Wait()
	close(done)
	if werr != nil {
		return r, fmt.Errorf("%s %s: %v: %s", name, shortArgs(args), werr, firstLines(stderr.String(), 3))
	}
	if lines < skip+n || from <= 0 || to <= from {
		return r, fmt.Errorf("%s %s: %d lines of numbers, CPU %v to %v: want %d lines", name, shortArgs(args), lines, from, to, skip+n)
	}
	r.childCPU = max(cto-cfrom, 0) / time.Duration(n)
	r.cpu = (to-from)/time.Duration(n) + r.childCPU
	r.anon, r.file, r.childAnon = peakAnon.Load(), peakFile.Load(), peakChild.Load()
	return r, nil
}

// childrenOf returns the PIDs of the child processes of process pid. A
// child not yet past its exec is left out: it shares pid's memory (Go
// starts a process with vfork), which /proc shows as its own, and would
// count pid's memory twice.
func childrenOf(pid int) []int {
	var kids []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	self, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(task)
		for _, f := range strings.Fields(string(b)) {
			c, err := strconv.Atoi(f)
			if err != nil {
				continue
			}
			if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c)); err == nil && !bytes.Equal(cmd, self) {
				kids = append(kids, c)
			}
		}
	}
	return kids
}

// childrenCPU is threadsCPU of each child process of pid, added up.
func childrenCPU(pid int) time.Duration {
	var sum time.Duration
	for _, c := range childrenOf(pid) {
		sum += threadsCPU(c)
	}
	return sum
}

// numbersLine reports whether l is a line of numbers (a poller's
// interval), not a header.
func numbersLine(l string) bool {
	fs := strings.Fields(l)
	for _, f := range fs {
		if _, err := strconv.ParseFloat(f, 64); err != nil {
			return false
		}
	}
	return len(fs) > 0
}

// threadsCPU is the CPU time that the threads of process pid have run,
// from their /proc/PID/task/TID/schedstat (0 if it cannot be read).
func threadsCPU(pid int) time.Duration {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, tk := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, tk.Name()))
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) == 0 {
			continue
		}
		ns, _ := strconv.ParseInt(f[0], 10, 64)
		sum += time.Duration(ns)
	}
	return sum
}

// rssOf reads RssAnon and RssFile+RssShmem of process pid, in KiB.
func rssOf(pid int) (anon, file int64, ok bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "RssAnon":
			anon, ok = n, true
		case "RssFile", "RssShmem":
			file += n
		}
	}
	return anon, file, ok
}

// anchorMapBudget is how many files pollstats's reader maps at most (see
// pkg/reader's mapBudget): the anchor maps as many.
func anchorMapBudget() int {
	limit := maxMapCount()
	return max(limit-max(4096, limit/16), 1)
}

// anchorFDBudget is how many descriptors pollstats keeps open on the
// files it cannot map (see its fdBudget): the anchor keeps as many.
func anchorFDBudget() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0
	}
	return max(int(min(rl.Cur, 1<<20))-512, 0)
}

// pollAnchorMain is the verb pollanchor: -c K intervals of -d seconds over
// the *.mmstats files of DIR, each adding up 4 counters of each file.
func pollAnchorMain(args []string) error {
	fs := flag.NewFlagSet("pollanchor", flag.ExitOnError)
	cnt := fs.Int("c", 3, "intervals")
	delay := fs.Float64("d", 0.05, "seconds between intervals")
	fs.Parse(args)
	if fs.NArg() != 1 {
		return fmt.Errorf("pollanchor needs DIR")
	}
	paths, err := filepath.Glob(filepath.Join(fs.Arg(0), "*.mmstats"))
	if err != nil || len(paths) == 0 {
		return fmt.Errorf("no files in %s", fs.Arg(0))
	}
	// The offsets of the 4 counters, once: every file is a copy of one.
	f, err := reader.Open(paths[0])
	if err != nil {
		return err
	}
	var offs [4]int
	for k, l := range strings.Split(pollCounters, ",") {
		_, fl, ok := f.Lookup("web.stats." + l)
		if !ok || fl.Sig.Code != 'Q' || fl.Buffered {
			return fmt.Errorf("%s: no counter %s", paths[0], l)
		}
		offs[k] = fl.Value + fl.Sig.Offset
	}
	f.Close()
	lo, hi := offs[0], offs[0]+8
	for _, o := range offs {
		lo, hi = min(lo, o), max(hi, o+8)
	}
	budget := anchorMapBudget()
	maps := make([][]byte, 0, min(len(paths), budget))
	for _, p := range paths[:min(len(paths), budget)] {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		m, err := syscall.Mmap(fd, 0, hi, syscall.PROT_READ, syscall.MAP_SHARED)
		syscall.Close(fd)
		if err != nil {
			return err
		}
		maps = append(maps, m)
	}
	// Past the mappings, descriptors held open while the limit allows
	// (as pollstats keeps them: the limit less 512), the rest opened and
	// closed each interval.
	rest := paths[len(maps):]
	held := make([]int, 0, min(len(rest), anchorFDBudget()))
	for _, p := range rest[:cap(held)] {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		held = append(held, fd)
	}
	rest = rest[len(held):]
	buf := make([]byte, hi-lo)
	out := bufio.NewWriter(os.Stdout)
	for range *cnt {
		time.Sleep(time.Duration(*delay * float64(time.Second)))
		var sum uint64
		for _, m := range maps {
			for _, o := range offs {
				sum += atomic.LoadUint64((*uint64)(unsafe.Pointer(&m[o])))
			}
		}
		for _, fd := range held {
			if _, err := syscall.Pread(fd, buf, int64(lo)); err != nil {
				return err
			}
			for _, o := range offs {
				sum += binary.NativeEndian.Uint64(buf[o-lo:])
			}
		}
		for _, p := range rest {
			fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			_, err = syscall.Pread(fd, buf, int64(lo))
			syscall.Close(fd)
			if err != nil {
				return err
			}
			for _, o := range offs {
				sum += binary.NativeEndian.Uint64(buf[o-lo:])
			}
		}
		fmt.Fprintln(out, sum)
		out.Flush()
	}
	return nil
}

// pollTargetRows adds the rows of the pollstats targets.
func pollTargetRows(t *table, res toolResults) {
	pollRows(t, res, "pollstats, one interval, 4 counters")
}

// rawPollDisk is the output of toolbench tools -tools pollstats with
// TOOLBENCH_ROOT on a disk (scripts/bench).
const rawPollDisk = "polldisk.json"

// pollDiskRows adds the rows of the pollstats targets over files in a
// disk directory, if scripts/bench measured them.
func pollDiskRows(t *table, raw string) {
	var res toolResults
	if raw == "" || json.Unmarshal([]byte(raw), &res) != nil {
		return
	}
	pollRows(t, res, "pollstats, 4 counters, files in "+res.Root)
}

// rawPollMaps is the output of toolbench tools -tools pollstats that
// scripts/bench runs with vm.max_map_count raised (BENCH_MAX_MAP_COUNT).
const rawPollMaps = "pollmaps.json"

// pollMapsRows adds the rows of the pollstats targets with
// vm.max_map_count raised, if scripts/bench measured them.
func pollMapsRows(t *table, raw string) {
	var res toolResults
	if raw == "" || json.Unmarshal([]byte(raw), &res) != nil || len(res.Sizes) == 0 {
		return
	}
	pollRows(t, res, fmt.Sprintf("pollstats, 4 counters, vm.max_map_count %s", count(res.MaxMapCount)))
}

func pollRows(t *table, res toolResults, title string) {
	for i, s := range res.Sizes {
		p := s.PollT
		what := ""
		if i == 0 {
			what = title
		}
		if _, bad := s.Errors["pollstats"]; bad || p.Runs == 0 {
			continue
		}
		target := ""
		switch s.Files {
		case 1000:
			target = "; target ≤ 0.5 ms"
		case 100000:
			target = "; target ≤ 100 ms, RssAnon ≤ 64 MiB"
		}
		anchor := "anchor FAILED: " + p.AnchorError
		if p.AnchorError == "" {
			anchor = fmt.Sprintf("%.1fx the anchor (%s)", ratio(p.CPU, p.AnchorCPU), dur(p.AnchorCPU))
		}
		t.row(what, count(s.Files)+" files × 4 counters", dur(p.CPU)+" CPU", anchor,
			fmt.Sprintf("RssAnon %s (%s/file)%s", mib(p.RssAnonKiB), kib(p.RssAnonKiB*1024/int64(s.Files)), helperNote(p)),
			fmt.Sprintf("files mapped %s; anchor: %s mapped, the rest pread (%s through held descriptors), RssAnon %s; intervals %d to %d, -d 0.05, median of %d runs%s",
				mib(p.RssFileKiB), count(p.Mapped), count(p.Held), mib(p.AnchorAnon), p.Skip+1, p.Skip+p.Intervals, p.Runs, target))
	}
}

// helperNote says what pollstats' mapping helper took of the CPU and
// RssAnon shown, if it ran.
func helperNote(p pollTargets) string {
	if p.HelperCPU == 0 && p.HelperAnonKiB == 0 {
		return ""
	}
	return fmt.Sprintf("; its mapping helper's included: %s CPU, RssAnon %s", dur(p.HelperCPU), mib(p.HelperAnonKiB))
}

// kib formats bytes as KiB.
func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }
