package demo

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"
)

// TestMixCoversEveryClass sends one cycle of the load's paths through the
// real handler: every status class answers, mostly 2XX.
func TestMixCoversEveryClass(t *testing.T) {
	stats := new(WebStats)
	h := newHandler(stats)
	for _, p := range mix {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	if got, want := counts(stats), [4]uint64{7, 1, 1, 1}; got != want {
		t.Errorf("one cycle of the mix counted %v (2XX..5XX), want %v", got, want)
	}
}

// TestLoadRun drives a server for a moment: the rate bounds the requests,
// every class shows up, and redirects are not followed.
func TestLoadRun(t *testing.T) {
	stats := new(WebStats)
	srv := httptest.NewServer(newHandler(stats))
	defer srv.Close()
	const rate, dur = 200.0, 400 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	start := time.Now()
	sent := newLoad(srv.URL, rate).run(ctx)
	elapsed := time.Since(start)
	srv.Close() // waits for the handlers, so every answer is counted

	if maxSent := int(rate*elapsed.Seconds()) + 1; sent > maxSent {
		t.Errorf("sent %d requests in %v, more than %d at %v/s", sent, elapsed, maxSent, rate)
	}
	if sent < len(mix) {
		t.Fatalf("sent only %d requests in %v at %v/s", sent, elapsed, rate)
	}
	c := counts(stats)
	for i, n := range c {
		if n == 0 {
			t.Errorf("no %dXX answers in %d requests: %v", i+2, sent, c)
		}
	}
	// A followed redirect would add a 2XX per 3XX: the total would pass
	// the requests sent. Requests cut off at the end may be uncounted.
	total := int(c[0] + c[1] + c[2] + c[3])
	if total > sent || total < sent-maxInFlight {
		t.Errorf("server counted %d answers for %d requests sent", total, sent)
	}
}
