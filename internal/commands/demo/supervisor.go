package demo

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Timeouts of the supervisor.
const (
	startTimeout = 10 * time.Second // for every worker to be ready
	stopTimeout  = 10 * time.Second // for the workers to exit once told
)

// supervise listens, starts the workers on the socket, prints the startup
// line on out, and waits: SIGINT and SIGTERM are forwarded to the
// workers, the end of --duration sends them SIGTERM, and a worker that
// exits by itself stops the others. It returns once every worker has
// exited; the error is nil unless one failed.
func supervise(opts *Options, out, errOut io.Writer) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	// A worker's parent-death signal fires when the thread that started it
	// exits, not only the process: keep this goroutine on one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	addr := dialAddr(ln.Addr())
	g, err := startWorkers(opts, ln.(*net.TCPListener), errOut)
	ln.Close() // the workers hold the socket now
	if err != nil {
		return err
	}

	paths := make([]string, 0, len(g.workers))
	timeout := time.After(startTimeout)
	for len(paths) < len(g.workers) {
		select {
		case r := <-g.ready:
			if r.path == "" {
				return g.abort(sigs, r.pid, "failed to start")
			}
			paths = append(paths, r.path)
		case p := <-g.exited:
			return g.abort(sigs, p.pid(), "exited while starting")
		case sig := <-sigs:
			// Interrupted while starting: not a failure, even if a worker
			// died of the signal before it could catch it.
			g.signal(sig)
			g.stop(sigs)
			return nil
		case <-timeout:
			return g.abort(sigs, 0, fmt.Sprintf("not ready after %v", startTimeout))
		}
	}
	fmt.Fprintf(out, "mmstats-demo: %s on http://%s, stats in %s (pids %s)\n",
		plural(len(g.workers), "worker"), addr, dirs(paths), g.pids())

	var end <-chan time.Time
	if opts.Duration > 0 {
		end = time.After(opts.Duration)
	}
	select {
	case sig := <-sigs:
		g.signal(sig)
	case <-end:
		g.signal(syscall.SIGTERM)
	case <-g.exited:
		// A worker stopped by itself: it was signalled (status 0) or it
		// failed (reported by stop). Either way the demo is over.
		g.signal(syscall.SIGTERM)
	}
	return g.stop(sigs)
}

// dirs returns the directories of paths, each once.
func dirs(paths []string) string {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		if d := filepath.Dir(p); !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return strings.Join(out, ",")
}
