package mmash

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener accepts at most n connections at once: past that, Accept
// waits until one closes, and new clients wait in the kernel's backlog
// rather than take a descriptor each. Together with the server's timeouts
// this bounds what stalled clients can hold.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		// Waiting for a slot must not keep Serve (and so Shutdown) from
		// returning once the listener is closed.
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

// Close closes the listener, and ends an Accept waiting for a slot.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// errBusy answers a request that found every slot taken and the queue
// full, or that waited too long for a slot: 503, Retry-After.
type errBusy struct{ running, waiting int }

func (e *errBusy) Error() string {
	return fmt.Sprintf("busy: %d requests that read files are running and %d wait (--max-requests); try again", e.running, e.waiting)
}

// gate lets at most cap(slots) requests that read files run at once, and
// queues at most maxWaiting more, each for at most wait: the cost of a
// burst of requests stays bounded, and the requests past the queue are
// refused at once rather than piled up.
type gate struct {
	slots      chan struct{}
	waiting    atomic.Int64
	maxWaiting int64
	wait       time.Duration
}

func newGate(n, queue int, wait time.Duration) *gate {
	return &gate{slots: make(chan struct{}, n), maxWaiting: int64(queue), wait: wait}
}

// enter takes a slot, waiting in the queue if need be, and returns the
// function that gives it back.
func (g *gate) enter(ctx context.Context) (leave func(), err error) {
	select {
	case g.slots <- struct{}{}:
		return g.leave, nil
	default:
	}
	if g.waiting.Add(1) > g.maxWaiting {
		g.waiting.Add(-1)
		return nil, g.busy()
	}
	defer g.waiting.Add(-1)
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return g.leave, nil
	case <-timer.C:
		return nil, g.busy()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *gate) leave() { <-g.slots }

func (g *gate) busy() error {
	return &errBusy{running: len(g.slots), waiting: int(g.waiting.Load())}
}

// errTooBig is a reservation larger than the whole budget.
var errTooBig = errors.New("larger than the whole budget")

// budget is a weighted semaphore of bytes: the memory that reading files
// may take at once, across requests. Reservations are served in order of
// arrival, so a large one is not starved by a stream of small ones. Each
// request holds at most one reservation at a time, so they cannot
// deadlock.
type budget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	waiters list.List // of *budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

func newBudget(size int64) *budget { return &budget{size: size} }

// acquire reserves n bytes, waiting until they are free or ctx ends.
func (b *budget) acquire(ctx context.Context, n int64) error {
	if n > b.size {
		return errTooBig
	}
	b.mu.Lock()
	if b.used+n <= b.size && b.waiters.Len() == 0 {
		b.used += n
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready:
			// Granted meanwhile: give it back.
			b.used -= n
		default:
			b.waiters.Remove(elem)
		}
		b.grant()
		b.mu.Unlock()
		return ctx.Err()
	}
}

// release gives back n bytes of a reservation.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.grant()
	b.mu.Unlock()
}

// grant wakes the waiters at the front of the queue that now fit.
func (b *budget) grant() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.size {
			return
		}
		b.used += w.n
		b.waiters.Remove(e)
		close(w.ready)
	}
}
