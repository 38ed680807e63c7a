package demo

import (
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// newHandler returns a worker's HTTP handler: the routes of the Python
// flask example (/, /500, /status) plus /redirect, so that the load has
// 3XX answers, and 404 for anything else, all counted in stats.
func newHandler(stats *WebStats) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "OK or see /status for a single process's status")
	})
	mux.HandleFunc("/500", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "oh noes!", http.StatusInternalServerError)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, stats)
	})
	return countStatus(stats, mux)
}

// writeStatus writes this worker's stats as "label: value" lines.
func writeStatus(w http.ResponseWriter, s *WebStats) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "mmstats-demo worker %d\n", os.Getpid())
	fmt.Fprintf(w, "%sstatus.2XX: %d\n", LabelPrefix, s.Status2XX.Value())
	fmt.Fprintf(w, "%sstatus.3XX: %d\n", LabelPrefix, s.Status3XX.Value())
	fmt.Fprintf(w, "%sstatus.4XX: %d\n", LabelPrefix, s.Status4XX.Value())
	fmt.Fprintf(w, "%sstatus.5XX: %d\n", LabelPrefix, s.Status5XX.Value())
	fmt.Fprintf(w, "%stimers.last_hit: %.6f\n", LabelPrefix, s.LastHit.Value())
	fmt.Fprintf(w, "%stimers.request: %.9f\n", LabelPrefix, s.Request.Value())
	fmt.Fprintf(w, "%sworking: %t\n", LabelPrefix, s.Working.Value())
	fmt.Fprintf(w, "%slast_path: %q\n", LabelPrefix, s.LastPath.Value())
}

// countStatus wraps next so that each request sets LastHit and LastPath,
// holds Working up while it runs, is timed in Request, and has its
// response counted by status class once next returns.
func countStatus(stats *WebStats, next http.Handler) http.Handler {
	busy := &inFlight{flag: &stats.Working}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stats.LastHit.Set(float64(time.Now().UnixNano()) / 1e9)
		stats.LastPath.Set(r.URL.Path)
		busy.begin()
		sw := &statusWriter{ResponseWriter: w}
		watch := stats.Request.Start()
		defer func() {
			watch.Stop()
			busy.end()
			stats.countStatus(sw.status())
		}()
		next.ServeHTTP(sw, r)
	})
}

// inFlight keeps a Bool true while at least one request runs. The mutex
// orders the transitions: without it the last request out could clear the
// flag just after a new request set it.
type inFlight struct {
	mu   sync.Mutex
	n    int
	flag *mmstats.Bool
}

func (b *inFlight) begin() {
	b.mu.Lock()
	b.n++
	b.flag.Set(true)
	b.mu.Unlock()
}

func (b *inFlight) end() {
	b.mu.Lock()
	b.n--
	if b.n == 0 {
		b.flag.Set(false)
	}
	b.mu.Unlock()
}

// statusWriter records the status code of the response it passes on.
type statusWriter struct {
	http.ResponseWriter
	code int // the final status; 0 until written
}

// WriteHeader records code unless it is an interim 1XX answer.
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && code >= 200 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write writes body bytes; without WriteHeader first, the status is 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the wrapped writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// status returns the response's status: 200 if the handler wrote nothing.
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
