package mmash

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitFor polls cond until it holds, failing after a minute: a wait for
// something that must happen, not a measure of how fast.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still not %s after a minute", what)
		}
	}
}

func TestLimitListener(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 2)
	defer ln.Close()
	var accepted atomic.Int32
	conns := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	waitFor(t, "2 connections accepted", func() bool { return accepted.Load() == 2 })
	time.Sleep(50 * time.Millisecond) // room for a wrong third Accept
	if n := accepted.Load(); n != 2 {
		t.Fatalf("%d connections accepted at once, want 2", n)
	}
	first := <-conns
	first.Close()
	first.Close() // a second Close gives nothing back twice
	waitFor(t, "the third connection accepted once one closed", func() bool { return accepted.Load() == 3 })
	if n := len(ln.slots); n != 2 {
		t.Errorf("%d slots taken, want 2", n)
	}
	// A fourth waits for a slot; closing the listener ends that wait, so
	// that the server's Serve returns.
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error)
	go func() { _, err := ln.Accept(); done <- err }()
	ln.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
}

func TestGate(t *testing.T) {
	g := newGate(1, 1, time.Hour)
	ctx := context.Background()
	leave, err := g.enter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The second waits in the queue; the third finds it full.
	entered := make(chan func(), 1)
	go func() {
		l, err := g.enter(ctx)
		if err != nil {
			t.Error(err)
		}
		entered <- l
	}()
	waitFor(t, "a request in the queue", func() bool { return g.waiting.Load() == 1 })
	var busy *errBusy
	if _, err := g.enter(ctx); !errors.As(err, &busy) || busy.running != 1 || busy.waiting != 1 {
		t.Errorf("past the queue: %v, want busy with 1 running and 1 waiting", err)
	}
	leave()
	(<-entered)()

	// A request waits at most g.wait, or as long as its context.
	g = newGate(1, 5, time.Millisecond)
	leave, _ = g.enter(ctx)
	defer leave()
	if _, err := g.enter(ctx); !errors.As(err, &busy) {
		t.Errorf("after the wait: %v, want busy", err)
	}
	g.wait = time.Hour
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.enter(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestBudget(t *testing.T) {
	b := newBudget(10)
	ctx := context.Background()
	if err := b.acquire(ctx, 11); !errors.Is(err, errTooBig) {
		t.Errorf("acquire(11) of 10: %v", err)
	}
	if err := b.acquire(ctx, 6); err != nil {
		t.Fatal(err)
	}
	// First come, first served: a small reservation that would fit
	// waits behind a large one that does not.
	var wg sync.WaitGroup
	for i, n := range []int64{8, 1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.acquire(ctx, n); err != nil {
				t.Error(err)
			}
		}()
		waitFor(t, "a waiter", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.waiters.Len() == i+1 })
	}
	b.mu.Lock()
	if b.used != 6 {
		t.Errorf("%d used while the 8 waits, want 6: the 1 went first", b.used)
	}
	b.mu.Unlock()
	// A waiter whose context ends leaves the queue.
	cancelled, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- b.acquire(cancelled, 2) }()
	waitFor(t, "a third waiter", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.waiters.Len() == 3 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	b.release(6)
	wg.Wait()
	b.release(9)
	if b.used != 0 || b.waiters.Len() != 0 {
		t.Errorf("left %d used, %d waiting", b.used, b.waiters.Len())
	}
}

func TestFlightSharesOneCall(t *testing.T) {
	var f flight
	var calls atomic.Int32
	release := make(chan struct{})
	fn := func() ([]byte, error) {
		calls.Add(1)
		<-release
		return []byte("answer"), nil
	}
	var wg sync.WaitGroup
	var started atomic.Int32
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			b, err := f.do(context.Background(), fn)
			if err != nil || string(b) != "answer" {
				t.Errorf("got %q, %v", b, err)
			}
		}()
	}
	waitFor(t, "the callers waiting", func() bool { return started.Load() == 10 && calls.Load() == 1 })
	time.Sleep(20 * time.Millisecond) // let the last callers join
	close(release)
	wg.Wait()
	if n := calls.Load(); n < 1 || n > 2 {
		t.Errorf("%d calls for 10 callers that came together", n)
	}
	// The next caller after makes a new call.
	f.do(context.Background(), fn)
	if n := calls.Load(); n < 2 {
		t.Errorf("the call after did not run: %d calls", n)
	}
}
