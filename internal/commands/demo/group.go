package demo

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// workerEnv marks the processes the supervisor starts as its workers: it
// holds the supervisor's PID. It is a variable and not a flag so that no
// command line, such as the typo --worker 3, can reach the worker role,
// and it names the parent so that a value left in a shell's environment
// does nothing.
const workerEnv = "MMSTATS_DEMO_WORKER_OF"

// isWorker reports whether this process is a worker: one whose workerEnv
// holds its parent's PID.
func isWorker() bool {
	v := os.Getenv(workerEnv)
	return v != "" && v == strconv.Itoa(os.Getppid())
}

// process is one worker process.
type process struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed once the process has exited
	err     error         // its exit error; read it after done
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// status describes how the process exited, once done is closed.
func (p *process) status() string {
	if p.err == nil {
		return "exit status 0"
	}
	return p.err.Error()
}

// readiness is what a worker reported on its ready pipe.
type readiness struct {
	p    *process
	path string // its stats file, or "" if it exited without being ready
}

// group is the supervisor's worker processes.
type group struct {
	exe    string
	args   []string
	env    []string
	sock   *os.File // the listening socket every worker serves
	errOut io.Writer

	workers []*process     // those started and not yet seen exiting
	ready   chan readiness // one message per worker
	exited  chan *process  // one message per worker, when it exits
	quit    chan struct{}  // closed by close: nobody reads ready and exited
}

// newGroup prepares a group of workers of this executable serving ln.
func newGroup(opts *Options, ln *net.TCPListener, errOut io.Writer) (*group, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find the executable to start workers: %w", err)
	}
	sock, err := socketFile(ln)
	if err != nil {
		return nil, fmt.Errorf("cannot pass the socket to workers: %w", err)
	}
	return &group{
		exe:    exe,
		args:   workerArgs(opts),
		env:    append(os.Environ(), workerEnv+"="+strconv.Itoa(os.Getpid())),
		sock:   sock,
		errOut: errOut,
		ready:  make(chan readiness),
		exited: make(chan *process),
		quit:   make(chan struct{}),
	}, nil
}

// workerArgs returns the flags of a worker process.
func workerArgs(opts *Options) []string {
	args := []string{"--rate=" + strconv.FormatFloat(opts.Rate, 'g', -1, 64)}
	if opts.Load {
		args = append(args, "--load")
	}
	if opts.MaxRequests > 0 {
		args = append(args, "--max-requests="+strconv.Itoa(opts.MaxRequests))
	}
	if opts.Verbose > 0 {
		args = append(args, "--verbose="+strconv.Itoa(opts.Verbose))
	}
	return args
}

// start starts one worker with the socket as fd 3 and the write end of
// its ready pipe as fd 4 (see listenerFD and readyFD). Its stdout is
// /dev/null: the supervisor's stdout carries only the startup line. It is
// in a process group of its own, so that a Ctrl-C on the terminal reaches
// only the supervisor, which forwards it: a worker that exits while the
// supervisor has not been told to stop has died, and is replaced.
func (g *group) start() (*process, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start worker: %w", err)
	}
	cmd := exec.Command(g.exe, g.args...)
	cmd.Env = g.env
	cmd.Stderr = g.errOut
	cmd.ExtraFiles = []*os.File{g.sock, w}
	cmd.SysProcAttr = workerAttr()
	err = cmd.Start()
	w.Close() // the worker holds it now: EOF means the worker is done with it
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	p := &process{cmd: cmd, started: time.Now(), done: make(chan struct{})}
	g.workers = append(g.workers, p)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
		r.Close()
		path, ok := strings.CutPrefix(strings.TrimSuffix(string(b), "\n"), "ready ")
		if !ok {
			path = ""
		}
		select {
		case g.ready <- readiness{p: p, path: path}:
		case <-g.quit:
		}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
		select {
		case g.exited <- p:
		case <-g.quit:
		}
	}()
	return p, nil
}

// forget drops p, which has exited, from the workers.
func (g *group) forget(p *process) {
	for i, w := range g.workers {
		if w == p {
			g.workers = append(g.workers[:i], g.workers[i+1:]...)
			return
		}
	}
}

// signal sends sig to every worker still running.
func (g *group) signal(sig os.Signal) {
	for _, p := range g.workers {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Signal(sig) // an error means it has just exited
		}
	}
}

// stop waits for every worker to exit, and releases the socket. Those
// still running after stopTimeout, or when a signal arrives on sigs (a
// second Ctrl-C), are killed. The error lists the workers that did not
// exit with status 0, but those that the stop signal ended as they
// started (see diedOfStop).
func (g *group) stop(sigs <-chan os.Signal) error {
	defer g.close()
	all := make(chan struct{})
	go func() {
		for _, p := range g.workers {
			<-p.done
		}
		close(all)
	}()
	deadline := time.NewTimer(stopTimeout)
	defer deadline.Stop()
	select {
	case <-all:
	case <-deadline.C:
		g.signal(syscall.SIGKILL)
		<-all
	case <-sigs:
		g.signal(syscall.SIGKILL)
		<-all
	}
	var failed []string
	for _, p := range g.workers {
		// One told to stop as it started (likely under --max-requests,
		// which starts workers all the time) has not failed.
		if p.err != nil && !diedOfStop(p.cmd.ProcessState) {
			failed = append(failed, fmt.Sprintf("worker %d: %v", p.pid(), p.err))
		}
	}
	if failed != nil {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// close releases the socket and the goroutines that report on workers.
func (g *group) close() {
	select {
	case <-g.quit:
	default:
		close(g.quit)
		g.sock.Close()
	}
}

// abort stops the workers after worker pid (0: some worker) failed to
// start, and returns the error, with that worker's exit status. The
// others, stopped while starting, are not reported.
func (g *group) abort(sigs <-chan os.Signal, p *process, what string) error {
	g.signal(syscall.SIGTERM)
	g.stop(sigs)
	if p == nil {
		return fmt.Errorf("workers %s", what)
	}
	if p.err != nil {
		return fmt.Errorf("worker %d %s: %v", p.pid(), what, p.err)
	}
	return fmt.Errorf("worker %d %s", p.pid(), what)
}

// pids returns the workers' PIDs separated by spaces.
func (g *group) pids() string {
	s := make([]string, len(g.workers))
	for i, w := range g.workers {
		s[i] = strconv.Itoa(w.pid())
	}
	return strings.Join(s, " ")
}
