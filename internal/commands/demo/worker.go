package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// The file descriptors a worker inherits from the supervisor.
const (
	listenerFD = 3 // the shared listening socket
	readyFD    = 4 // a pipe: the worker writes "ready PATH\n" and closes it
)

// shutdownGrace bounds how long a stopping worker waits for requests in
// flight.
const shutdownGrace = 3 * time.Second

// errNotWorker is returned when workerEnv is set by hand.
var errNotWorker = errors.New(workerEnv + " is internal: mmstats-demo sets it for the workers it starts; unset it")

// runWorker serves the inherited socket with a stats file of its own
// until SIGINT or SIGTERM, or until it has answered --max-requests
// requests, then stops its load, finishes the requests in flight and
// removes the file, which folds its counts into the directory's totals.
func runWorker(opts *Options, errOut io.Writer) error {
	// Catch the signals before the file exists, so that none can end the
	// process between creating the file and being able to remove it. They
	// stay caught until the process exits: a second signal (a second
	// Ctrl-C, forwarded) must not kill it before it has removed its file.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	watchParent() // SIGTERM when the supervisor dies

	if !isSocket(listenerFD) || !isPipe(readyFD) {
		return errNotWorker
	}
	ready := os.NewFile(readyFD, "ready")
	defer ready.Close()
	lnFile := os.NewFile(listenerFD, "listener")
	ln, err := net.FileListener(lnFile)
	lnFile.Close()
	if err != nil {
		return fmt.Errorf("inherited socket: %w", err)
	}
	stats := new(WebStats)
	file, err := mmstats.New(stats, mmstats.Options{Filename: FilenameTemplate, LabelPrefix: LabelPrefix, Runtime: true})
	if err != nil {
		ln.Close()
		return err
	}
	handler := newHandler(stats)
	if opts.Verbose >= 2 {
		handler = logRequests(handler, errOut)
	}
	var recycle <-chan struct{} // nil, never ready, without --max-requests
	if opts.MaxRequests > 0 {
		handler, recycle = recycleAfter(opts.MaxRequests, handler)
	}
	var conns sync.WaitGroup // the connections accepted and not closed
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(errOut, fmt.Sprintf("mmstats-demo: worker %d: ", os.Getpid()), 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew: // in Serve's goroutine, before it accepts again
				conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				conns.Done()
			}
		},
	}
	served := make(chan error, 1)
	serving := make(chan struct{}) // closed once Serve has returned
	go func() {
		served <- srv.Serve(ln)
		close(serving)
	}()

	ctx, cancel := context.WithCancel(context.Background())
	var loading sync.WaitGroup
	if opts.Load {
		l := newLoad("http://"+dialAddr(ln.Addr()), opts.Rate)
		loading.Go(func() { l.run(ctx) })
	}
	var failed error
	if _, err := fmt.Fprintf(ready, "ready %s\n", file.Path()); err != nil {
		failed = fmt.Errorf("telling the supervisor: %w", err)
	} else if err := ready.Close(); err != nil {
		failed = fmt.Errorf("telling the supervisor: %w", err)
	} else {
		select {
		case <-sigs:
		case <-recycle:
		case err := <-served: // Serve returns early only when it fails
			failed = fmt.Errorf("serve: %w", err)
		}
	}

	cancel()
	loading.Wait()
	drain(srv, ln, serving, &conns)
	return errors.Join(failed, file.Remove())
}

// drain stops srv, serving ln, without dropping a request: it stops
// accepting, answers every request that reaches it, the first one of a
// connection just accepted included, and closes each connection after
// its answer. (http.Server.Shutdown drops a request it reads once
// shutting down: the client of a new connection gets EOF, unanswered and
// not retried. Under --max-requests, a worker stops every few seconds.)
// Connections still open after shutdownGrace are closed (their handlers
// get as long again to return and count). conns counts the open
// connections (srv's ConnState); serving is closed once Serve has
// returned.
func drain(srv *http.Server, ln net.Listener, serving <-chan struct{}, conns *sync.WaitGroup) {
	// Answers now close their connection, and idle connections are
	// closed: a client sending on one at that instant retries (a GET
	// on a reused connection), on a new connection to another worker.
	srv.SetKeepAlivesEnabled(false)
	ln.Close()
	<-serving // its Accept fails: no connection is added any more
	closed := make(chan struct{})
	go func() { conns.Wait(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(shutdownGrace):
		srv.Close()
		select {
		case <-closed:
		case <-time.After(shutdownGrace):
		}
	}
}

// recycleAfter wraps next so that the channel it returns is closed once
// n requests have been answered (and counted: next has returned). The
// worker then shuts down as on SIGTERM: requests already in flight or
// read meanwhile are still answered and counted, so it may answer a few
// more than n, as gunicorn's max_requests does.
func recycleAfter(n int, next http.Handler) (http.Handler, <-chan struct{}) {
	done := make(chan struct{})
	var answered atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if answered.Add(1) == int64(n) {
			close(done)
		}
	}), done
}

// dialAddr returns the address to connect to for a server listening on
// addr: addr itself, or loopback in place of a wildcard address.
func dialAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if tcp.IP.To4() == nil {
			ip = net.IPv6loopback
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}
