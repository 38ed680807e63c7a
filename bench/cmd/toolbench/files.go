package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// webStats is what a web worker publishes (mmstats-demo's model): the
// files the tools are measured on are copies of one such file.
type webStats struct {
	S2XX     mmstats.Counter `mmstats:"status.2XX"`
	S3XX     mmstats.Counter `mmstats:"status.3XX"`
	S4XX     mmstats.Counter `mmstats:"status.4XX"`
	S5XX     mmstats.Counter `mmstats:"status.5XX"`
	LastHit  mmstats.Float64 `mmstats:"timers.last_hit,kind=timestamp,unit=seconds"`
	Request  mmstats.Timer   `mmstats:"timers.request"`
	Working  mmstats.Bool    `mmstats:"working"`
	LastPath mmstats.String  `mmstats:"last_path,size=64"`
}

// pollFields are the columns of the pollstats runs (-p web.stats).
const pollFields = "status.2XX,status.5XX,timers.request.p99,working"

// template writes a stats file with the real writer, in a scratch
// directory, and returns its bytes. The copies carry this process's PID
// and sys.flock, but nobody holds their locks: cleanstats sees them as
// stale unless a holder (see hold) locks them.
func template() ([]byte, error) {
	var s webStats
	return writeTemplate(&s, func() {
		s.S2XX.Add(1234)
		s.S3XX.Add(56)
		s.S4XX.Add(7)
		s.S5XX.Add(1)
		s.LastHit.Set(float64(time.Now().UnixNano()) / 1e9)
		for i := range 1000 {
			s.Request.Observe(time.Duration(100+i*7) * time.Microsecond)
		}
		s.Working.Set(true)
		s.LastPath.Set("/index.html")
	})
}

// writeTemplate writes the stats struct s (a pointer) with the real
// writer into a scratch directory, with the labels of a web worker
// (web.stats.…), lets fill set its values, and returns the file's bytes.
func writeTemplate(s any, fill func()) ([]byte, error) {
	dir, err := os.MkdirTemp("", "toolbench-template-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	f, err := mmstats.New(s, mmstats.Options{Dir: dir, Filename: "t.mmstats", LabelPrefix: "web.stats."})
	if err != nil {
		return nil, err
	}
	defer f.Remove()
	fill()
	f.Refresh()
	return os.ReadFile(f.Path())
}

// scratchRoot is $TOOLBENCH_ROOT if set (a disk directory, to compare),
// else /dev/shm when it is there (files of a tool's size are about
// memory, not a disk), else the temp dir.
func scratchRoot() string {
	if r := os.Getenv("TOOLBENCH_ROOT"); r != "" {
		return r
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		if f, err := os.CreateTemp("/dev/shm", ".toolbench-probe-"); err == nil {
			f.Close()
			os.Remove(f.Name())
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// fileName is the name of file i of a set.
func fileName(i int) string { return fmt.Sprintf("w%06d.mmstats", i) }

// writeCopies writes data as the files of indexes idx in dir, with two
// goroutines (the machine has two cores; the kernel does the work).
func writeCopies(dir string, data []byte, idx []int) error {
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := g; k < len(idx); k += 2 {
				if err := os.WriteFile(filepath.Join(dir, fileName(idx[k])), data, 0o644); err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// span returns the indexes [from, to) stepping by step.
func span(from, to, step int) []int {
	var out []int
	for i := from; i < to; i += step {
		out = append(out, i)
	}
	return out
}

// holdPerProcess is how many locks one holder takes: under the default
// limit of 20,000 open files (an unprivileged process cannot raise its
// hard limit).
const holdPerProcess = 15000

// holders are child processes (toolbench hold) that hold the writer's
// shared lock on files, as live writers do, so cleanstats keeps them.
type holders struct{ cmds []*exec.Cmd }

// holdLocks starts enough holders to lock paths, and returns once every
// lock is held.
func holdLocks(paths []string) (*holders, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	h := &holders{}
	for start := 0; start < len(paths); start += holdPerProcess {
		chunk := paths[start:min(start+holdPerProcess, len(paths))]
		cmd := exec.Command(self, "hold")
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			h.release()
			return nil, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			h.release()
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			h.release()
			return nil, err
		}
		h.cmds = append(h.cmds, cmd)
		go func() {
			w := bufio.NewWriter(stdin)
			for _, p := range chunk {
				w.WriteString(p + "\n")
			}
			w.WriteString("\n") // the end of the list; stdin stays open
			w.Flush()
		}()
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if strings.TrimSpace(line) != "ready" {
			h.release()
			return nil, fmt.Errorf("lock holder: %q", line)
		}
	}
	return h, nil
}

// release ends the holders: their locks go with them.
func (h *holders) release() {
	for _, c := range h.cmds {
		if c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	h.cmds = nil
}

// holdMain is the holder: it reads paths until an empty line, takes a
// shared flock on each (what the Go writer holds while it lives), says
// "ready" and waits for its stdin to close or to be killed.
func holdMain() error {
	in := bufio.NewReader(os.Stdin)
	var files []*os.File
	for {
		line, err := in.ReadString('\n')
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			break
		}
		if err != nil {
			return err
		}
		f, err := os.Open(line)
		if err != nil {
			return err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
			return fmt.Errorf("flock %s: %w", line, err)
		}
		files = append(files, f)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, in)
	for _, f := range files {
		f.Close()
	}
	return nil
}

// filesMain writes n copies of the template into a directory, the files
// `toolbench tools` measures on, so that a run can be timed by hand
// (`time slurpstats DIR` against `cat DIR/*`). Nobody holds their locks:
// cleanstats sees them all as stale.
func filesMain(args []string) error {
	fs := flag.NewFlagSet("files", flag.ExitOnError)
	n := fs.Int("n", 10000, "number of files")
	fs.Parse(args)
	if fs.NArg() != 1 || *n < 1 {
		return fmt.Errorf("usage: toolbench files -n N DIR")
	}
	dir := fs.Arg(0)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := template()
	if err != nil {
		return fmt.Errorf("template: %w", err)
	}
	return writeCopies(dir, data, span(0, *n, 1))
}
