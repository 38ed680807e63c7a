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

	"github.com/mmstats/mmstats/internal/cli"
)

// Timeouts of the supervisor.
const (
	startTimeout = 10 * time.Second // for every worker to be ready
	stopTimeout  = 10 * time.Second // for the workers to exit once told
)

// The crash-loop guard: a worker that exits sooner than steadyAfter after
// starting is replaced after a pause of firstPause, doubled for each such
// exit in a row up to maxPause, so that workers that cannot start (a stats
// directory gone, say) do not make the supervisor spin.
const (
	steadyAfter = time.Second
	firstPause  = 100 * time.Millisecond
	maxPause    = 10 * time.Second
)

// supervise listens, starts the workers on the socket, prints the startup
// line on out, and keeps that many workers running, as gunicorn does: a
// worker that exits is replaced, with a line on errOut. SIGINT and SIGTERM
// are forwarded to the workers and the end of --duration sends them
// SIGTERM; it returns once every worker has exited, with an error if one
// failed to start or to stop cleanly.
func supervise(opts *Options, out, errOut io.Writer) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	// A worker's parent-death signal fires when the thread that started it
	// exits, not only the process: keep this goroutine, which starts every
	// worker, on one thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()

	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen: %w", err)
	}
	addr := dialAddr(ln.Addr())
	g, err := newGroup(opts, ln.(*net.TCPListener), errOut)
	ln.Close() // the group holds the socket now
	if err != nil {
		return err
	}
	logf := func(level int, format string, args ...any) {
		if opts.Verbose >= level {
			fmt.Fprintf(errOut, "mmstats-demo: "+format+"\n", args...)
		}
	}
	for range opts.Workers {
		p, err := g.start()
		if err != nil {
			g.signal(syscall.SIGTERM)
			g.stop(nil)
			return err
		}
		logf(1, "started worker %d", p.pid())
	}

	paths := make([]string, 0, opts.Workers)
	timeout := time.After(startTimeout)
	for len(paths) < opts.Workers {
		select {
		case r := <-g.ready:
			if r.path == "" {
				return g.abort(sigs, r.p, "failed to start")
			}
			logf(1, "worker %d ready: %s", r.p.pid(), cli.Quote(r.path))
			paths = append(paths, r.path)
		case p := <-g.exited:
			return g.abort(sigs, p, "failed to start")
		case sig := <-sigs:
			// Interrupted while starting: not a failure, even if a worker
			// died of the signal before it could catch it.
			g.signal(sig)
			g.stop(sigs)
			return nil
		case <-timeout:
			return g.abort(sigs, nil, fmt.Sprintf("not ready after %v", startTimeout))
		}
	}
	fmt.Fprintf(out, "mmstats-demo: %s on http://%s, stats in %s (pids %s)\n",
		plural(opts.Workers, "worker"), addr, cli.Quote(dirs(paths)), g.pids())

	var end <-chan time.Time
	if opts.Duration > 0 {
		end = time.After(opts.Duration)
	}
	r := &respawner{g: g, logf: logf}
	defer r.stopTimer()
	for {
		select {
		case sig := <-sigs:
			logf(1, "%v: stopping %s", sig, plural(len(g.workers), "worker"))
			g.signal(sig)
			return g.stop(sigs)
		case <-end:
			logf(1, "--duration %v is over: stopping %s", opts.Duration, plural(len(g.workers), "worker"))
			g.signal(syscall.SIGTERM)
			return g.stop(sigs)
		case p := <-g.exited:
			r.replace(p)
		case rd := <-g.ready:
			if rd.path != "" {
				logf(1, "worker %d ready: %s", rd.p.pid(), cli.Quote(rd.path))
			}
		case <-r.due():
			r.startDue()
		}
	}
}

// respawner replaces the workers that exit, pausing when they exit soon
// after starting (see steadyAfter).
type respawner struct {
	g       *group
	logf    func(level int, format string, args ...any)
	crashes int         // workers in a row that exited before steadyAfter
	pending []time.Time // when to start each replacement still to start
	timer   *time.Timer // fires at the first of pending
}

// replace forgets p, which has exited, and starts a worker in its place:
// at once, or after a pause if p died soon after starting.
func (r *respawner) replace(p *process) {
	r.g.forget(p)
	if p.err == nil {
		// Exit status 0 unasked: a worker recycled after --max-requests
		// (or told to stop by someone else's SIGTERM). Planned, however
		// short its life: replaced at once, and said only with -v, as
		// --max-requests makes hundreds of these.
		r.crashes = 0
		n, err := r.g.start()
		if err != nil {
			r.crashes++
			pause := r.pause()
			r.logf(0, "worker %d exited cleanly; %v; trying again in %v", p.pid(), err, pause)
			r.schedule(time.Now().Add(pause))
			return
		}
		r.logf(1, "worker %d exited cleanly; started worker %d in its place", p.pid(), n.pid())
		return
	}
	lived := time.Since(p.started)
	if lived < steadyAfter {
		r.crashes++
		pause := r.pause()
		r.logf(0, "worker %d exited (%s) %v after starting; starting another in %v",
			p.pid(), p.status(), lived.Round(time.Millisecond), pause)
		r.schedule(time.Now().Add(pause))
		return
	}
	r.crashes = 0
	n, err := r.g.start()
	if err != nil {
		r.crashes++
		pause := r.pause()
		r.logf(0, "worker %d exited (%s); %v; trying again in %v", p.pid(), p.status(), err, pause)
		r.schedule(time.Now().Add(pause))
		return
	}
	r.logf(0, "worker %d exited (%s); started worker %d in its place", p.pid(), p.status(), n.pid())
}

// pause returns the pause before the next start after r.crashes crashes.
func (r *respawner) pause() time.Duration {
	d := firstPause
	for i := 1; i < r.crashes && d < maxPause; i++ {
		d *= 2
	}
	return min(d, maxPause)
}

// schedule adds a start at t.
func (r *respawner) schedule(t time.Time) {
	r.pending = append(r.pending, t)
	r.resetTimer()
}

// due returns a channel that receives when a start is due (nil: none is
// pending).
func (r *respawner) due() <-chan time.Time {
	if r.timer == nil {
		return nil
	}
	return r.timer.C
}

// startDue starts the workers whose time has come; one that cannot be
// started is tried again later.
func (r *respawner) startDue() {
	now := time.Now()
	var later []time.Time
	for _, t := range r.pending {
		if t.After(now) {
			later = append(later, t)
			continue
		}
		p, err := r.g.start()
		if err != nil {
			r.crashes++
			pause := r.pause()
			r.logf(0, "%v; trying again in %v", err, pause)
			later = append(later, now.Add(pause))
			continue
		}
		r.logf(1, "started worker %d", p.pid())
	}
	r.pending = later
	r.timer = nil
	r.resetTimer()
}

// resetTimer sets the timer to the first pending start.
func (r *respawner) resetTimer() {
	r.stopTimer()
	if len(r.pending) == 0 {
		return
	}
	first := r.pending[0]
	for _, t := range r.pending[1:] {
		if t.Before(first) {
			first = t
		}
	}
	r.timer = time.NewTimer(time.Until(first))
}

func (r *respawner) stopTimer() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
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
