package demo

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// counts returns the four status-class counters.
func counts(s *WebStats) [4]uint64 {
	return [4]uint64{s.Status2XX.Value(), s.Status3XX.Value(), s.Status4XX.Value(), s.Status5XX.Value()}
}

func TestCountStatusClasses(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    [4]uint64
	}{
		{"implicit 200 by Write", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hi")) }, [4]uint64{1, 0, 0, 0}},
		{"nothing written", func(http.ResponseWriter, *http.Request) {}, [4]uint64{1, 0, 0, 0}},
		{"204", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, [4]uint64{1, 0, 0, 0}},
		{"interim 103 then 200", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusOK)
		}, [4]uint64{1, 0, 0, 0}},
		{"302", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/", http.StatusFound) }, [4]uint64{0, 1, 0, 0}},
		{"304", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNotModified) }, [4]uint64{0, 1, 0, 0}},
		{"404", http.NotFound, [4]uint64{0, 0, 1, 0}},
		{"429 then a body", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte("slow down"))
		}, [4]uint64{0, 0, 1, 0}},
		{"500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) }, [4]uint64{0, 0, 0, 1}},
		{"second WriteHeader ignored", func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.WriteHeader(http.StatusOK)
		}, [4]uint64{0, 0, 0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stats := new(WebStats)
			h := countStatus(stats, tt.handler)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
			if got := counts(stats); got != tt.want {
				t.Errorf("counters 2XX..5XX = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCountStatusOverHTTP checks the wrapper behind a real server, where
// an interim 1XX answer reaches the wire before the final status.
func TestCountStatusOverHTTP(t *testing.T) {
	stats := new(WebStats)
	srv := httptest.NewServer(countStatus(stats, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</x>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		http.Error(w, "teapot", http.StatusTeapot)
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Fatalf("status %d, want 418", resp.StatusCode)
	}
	srv.Close() // waits for the handler, and so for the count
	if got, want := counts(stats), [4]uint64{0, 0, 1, 0}; got != want {
		t.Errorf("counters = %v, want %v", got, want)
	}
}

func TestCountStatusRecordsRequest(t *testing.T) {
	stats := new(WebStats)
	var workingInside bool
	h := countStatus(stats, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		workingInside = stats.Working.Value()
		time.Sleep(2 * time.Millisecond)
	}))
	before := float64(time.Now().UnixNano()) / 1e9
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/some/path?q=1", nil))
	after := float64(time.Now().UnixNano()) / 1e9

	if !workingInside {
		t.Error("working was false while the request ran")
	}
	if stats.Working.Value() {
		t.Error("working is still true after the request")
	}
	if got := stats.LastPath.Value(); got != "/some/path" {
		t.Errorf("last_path = %q, want /some/path", got)
	}
	if got := stats.LastHit.Value(); got < before || got > after {
		t.Errorf("last_hit = %f, want in [%f, %f]", got, before, after)
	}
	if got := stats.Request.Last(); got < 2*time.Millisecond {
		t.Errorf("request timer recorded %v, want >= 2ms", got)
	}
	if got := stats.Request.Value(); got < 0.002 {
		t.Errorf("request timer mean = %f s, want >= 0.002", got)
	}
}

// TestWorkingConcurrent runs overlapping requests: working must be true
// whenever one runs, and false once all are done.
func TestWorkingConcurrent(t *testing.T) {
	stats := new(WebStats)
	var clear sync.Mutex
	var sawClear bool
	h := countStatus(stats, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if !stats.Working.Value() {
			clear.Lock()
			sawClear = true
			clear.Unlock()
		}
	}))
	const n = 400
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		})
	}
	wg.Wait()
	if sawClear {
		t.Error("a request ran with working false")
	}
	if stats.Working.Value() {
		t.Error("working is true with no request in flight")
	}
	if got := stats.Status2XX.Value(); got != n {
		t.Errorf("2XX = %d, want %d", got, n)
	}
}

func TestRoutes(t *testing.T) {
	stats := new(WebStats)
	h := newHandler(stats)
	tests := []struct {
		path     string
		code     int
		body     string
		location string
	}{
		{"/", 200, "OK or see /status", ""},
		{"/500", 500, "oh noes!", ""},
		{"/redirect", 302, "", "/"},
		{"/nope", 404, "404 page not found", ""},
		{"/status", 200, "web.stats.status.2XX: 1\n", ""}, // counted after it answers
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.code {
			t.Errorf("GET %s: status %d, want %d", tt.path, rec.Code, tt.code)
		}
		if !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("GET %s: body %q does not contain %q", tt.path, rec.Body.String(), tt.body)
		}
		if got := rec.Header().Get("Location"); got != tt.location {
			t.Errorf("GET %s: Location %q, want %q", tt.path, got, tt.location)
		}
	}
	if got, want := counts(stats), [4]uint64{2, 1, 1, 1}; got != want {
		t.Errorf("counters = %v, want %v", got, want)
	}
}

// TestRecycleAfter: the recycling channel closes once the nth request has
// been answered and counted, not before, and later requests (those in
// flight while the worker shuts down) are still answered and counted.
func TestRecycleAfter(t *testing.T) {
	stats := new(WebStats)
	h, recycle := recycleAfter(3, newHandler(stats))
	get := func(path string) {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	for i, path := range []string{"/", "/500"} {
		get(path)
		select {
		case <-recycle:
			t.Fatalf("recycling after %d requests, want 3", i+1)
		default:
		}
	}
	get("/nope")
	select {
	case <-recycle:
	default:
		t.Fatal("no recycling after 3 requests")
	}
	get("/") // answered while shutting down: no second close (no panic)
	if got := counts(stats); got != [4]uint64{2, 0, 1, 1} {
		t.Errorf("counted %v, want [2 0 1 1]", got)
	}
}
