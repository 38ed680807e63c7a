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
	K           [2]int        // -c of the two runs: CPU difference / K difference
	CPU         time.Duration // pollstats, 4 counters: CPU per interval
	AnchorCPU   time.Duration // pollanchor: CPU per interval
	RssAnonKiB  int64         // pollstats, 4 counters: peak RssAnon (/proc/PID/status)
	RssFileKiB  int64         // and its RssFile + RssShmem then: the files' pages mapped
	AnchorAnon  int64         // pollanchor's peak RssAnon
	Mapped      int           // files the anchor maps (the rest: pread)
	Held        int           // files the anchor preads through a held descriptor (the rest: opened each time)
	Runs        int
	AnchorError string `json:",omitempty"`
}

// measurePollTargets runs pollstats with 4 counters and the anchor, -c K
// for two K, interleaved, reps times, sampling their RssAnon.
func measurePollTargets(r *sizeResults, tool, dir string, n, reps int) error {
	t := &r.PollT
	// Many intervals: the anchor's are tens of microseconds, and the
	// rusage of a child is not finer than its scheduler's accounting. At
	// 100,000 files, 20: the start costs some 6 s of CPU, give or take
	// half a second from run to run, which over 5 intervals was as much
	// as the intervals themselves (the collections, every 20 or so, are
	// in the difference then too).
	t.K = [2]int{3, 83}
	if n > 10000 {
		t.K = [2]int{2, 22}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var polls, anchors [2][]sample
	for range reps {
		for k, c := range t.K {
			s, anon, file, err := runSampled(tool, "-c", strconv.Itoa(c), "-d", "0.05", "-p", "web.stats", pollCounters, dir)
			if err != nil {
				return err
			}
			polls[k] = append(polls[k], s)
			t.RssAnonKiB, t.RssFileKiB = max(t.RssAnonKiB, anon), max(t.RssFileKiB, file)
			a, aanon, _, err := runSampled(self, "pollanchor", "-c", strconv.Itoa(c), "-d", "0.05", dir)
			if err != nil {
				t.AnchorError = err.Error()
				continue
			}
			anchors[k] = append(anchors[k], a)
			t.AnchorAnon = max(t.AnchorAnon, aanon)
		}
	}
	t.Runs = reps
	t.Mapped = min(n, anchorMapBudget())
	t.Held = min(n-t.Mapped, anchorFDBudget())
	per := func(ss [2][]sample) time.Duration {
		return (summarize(n, ss[1]).CPU - summarize(n, ss[0]).CPU) / time.Duration(t.K[1]-t.K[0])
	}
	t.CPU = per(polls)
	if t.AnchorError == "" {
		t.AnchorCPU = per(anchors)
	}
	logf("%d files: pollstats (4 counters) %v CPU per interval, anchor %v; peak RssAnon %d KiB", n, t.CPU, t.AnchorCPU, t.RssAnonKiB)
	return nil
}

// runSampled is run, sampling the child's /proc/PID/status every 10 ms:
// it returns the peak RssAnon and RssFile+RssShmem, in KiB.
func runSampled(name string, args ...string) (s sample, anon, file int64, err error) {
	done := make(chan struct{})
	var pid atomic.Int64
	started := make(chan struct{})
	var peakAnon, peakFile atomic.Int64
	go func() {
		<-started
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if a, f, ok := rssOf(int(pid.Load())); ok {
				peakAnon.Store(max(peakAnon.Load(), a))
				peakFile.Store(max(peakFile.Load(), f))
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	s, err = runWith(name, args, func(p int) { pid.Store(int64(p)); close(started) })
	close(done)
	return s, peakAnon.Load(), peakFile.Load(), err
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

// runWith is run (exit 0 only), calling started with the child's PID
// once it runs.
func runWith(name string, args []string, started func(pid int)) (sample, error) {
	cmd := exec.Command(name, args...)
	out := &counter{}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		started(0)
		return sample{}, err
	}
	started(cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s %s: %v: %s", name, shortArgs(args), err, firstLines(stderr.String(), 3))
	}
	s := sample{Wall: wall, CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), Out: out.n}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		s.RSSKiB = ru.Maxrss
	}
	return s, nil
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
			fmt.Sprintf("RssAnon %s (%s/file)", mib(p.RssAnonKiB), kib(p.RssAnonKiB*1024/int64(s.Files))),
			fmt.Sprintf("files mapped %s; anchor: %s mapped, the rest pread (%s through held descriptors), RssAnon %s; -c %d minus -c %d, -d 0.05; %d runs%s",
				mib(p.RssFileKiB), count(p.Mapped), count(p.Held), mib(p.AnchorAnon), p.K[1], p.K[0], p.Runs, target))
	}
}

// kib formats bytes as KiB.
func kib(b int64) string { return fmt.Sprintf("%.1f KiB", float64(b)/1024) }
