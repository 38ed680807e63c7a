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

// process is one worker process.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // its exit error; read it after done
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// readiness is what a worker reported on its ready pipe.
type readiness struct {
	pid  int
	path string // its stats file, or "" if it exited without being ready
}

// group is the supervisor's worker processes.
type group struct {
	workers []*process
	ready   chan readiness // one message per worker
	exited  chan *process  // one message per worker, when it exits
}

// startWorkers starts opts.Workers processes of this executable that serve
// ln. If one cannot be started, those already started are stopped.
func startWorkers(opts *Options, ln *net.TCPListener, errOut io.Writer) (*group, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find the executable to start workers: %w", err)
	}
	sock, err := ln.File()
	if err != nil {
		return nil, fmt.Errorf("cannot pass the socket to workers: %w", err)
	}
	defer sock.Close()
	g := &group{ready: make(chan readiness, opts.Workers), exited: make(chan *process, opts.Workers)}
	for range opts.Workers {
		if err := g.start(exe, workerArgs(opts), sock, errOut); err != nil {
			g.signal(syscall.SIGTERM)
			g.stop(nil)
			return nil, err
		}
	}
	return g, nil
}

// workerArgs returns the flags of a worker process.
func workerArgs(opts *Options) []string {
	args := []string{"--worker", "--rate=" + strconv.FormatFloat(opts.Rate, 'g', -1, 64)}
	if opts.Load {
		args = append(args, "--load")
	}
	return args
}

// start starts one worker with the socket as fd 3 and the write end of
// its ready pipe as fd 4 (see listenerFD and readyFD). Its stdout is
// /dev/null: the supervisor's stdout carries only the startup line.
func (g *group) start(exe string, args []string, sock *os.File, errOut io.Writer) error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = errOut
	cmd.ExtraFiles = []*os.File{sock, w}
	cmd.SysProcAttr = workerAttr()
	err = cmd.Start()
	w.Close() // the worker holds it now: EOF means the worker is done with it
	if err != nil {
		r.Close()
		return fmt.Errorf("start worker: %w", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	g.workers = append(g.workers, p)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
		r.Close()
		path, ok := strings.CutPrefix(strings.TrimSuffix(string(b), "\n"), "ready ")
		if !ok {
			path = ""
		}
		g.ready <- readiness{pid: p.pid(), path: path}
	}()
	go func() {
		p.err = cmd.Wait()
		close(p.done)
		g.exited <- p
	}()
	return nil
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

// stop waits for every worker to exit. Those still running after
// stopTimeout, or when a signal arrives on sigs (a second Ctrl-C), are
// killed. The error lists the workers that did not exit with status 0.
func (g *group) stop(sigs <-chan os.Signal) error {
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
		if p.err != nil {
			failed = append(failed, fmt.Sprintf("worker %d: %v", p.pid(), p.err))
		}
	}
	if failed != nil {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// abort stops the workers after worker pid (0: some worker) failed to
// start, and returns the error, with that worker's exit status. The
// others, stopped while starting, are not reported.
func (g *group) abort(sigs <-chan os.Signal, pid int, what string) error {
	g.signal(syscall.SIGTERM)
	g.stop(sigs)
	if pid == 0 {
		return fmt.Errorf("workers %s", what)
	}
	for _, p := range g.workers {
		if p.pid() == pid && p.err != nil {
			return fmt.Errorf("worker %d %s: %v", pid, what, p.err)
		}
	}
	return fmt.Errorf("worker %d %s", pid, what)
}

// pids returns the workers' PIDs separated by spaces.
func (g *group) pids() string {
	s := make([]string, len(g.workers))
	for i, w := range g.workers {
		s[i] = strconv.Itoa(w.pid())
	}
	return strings.Join(s, " ")
}
