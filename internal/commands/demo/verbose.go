package demo

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
)

// logRequests wraps next so that each request, once answered, is one line
// on w: the worker, the method and decoded path (quoted if they hold control
// characters), the status and the time taken.
func logRequests(next http.Handler, w io.Writer) http.Handler {
	var mu sync.Mutex // one line per write, whole
	pid := os.Getpid()
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: rw}
		next.ServeHTTP(sw, r)
		took := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "mmstats-demo: worker %d: %s %s %d %v\n",
			pid, cli.Quote(r.Method), cli.Quote(r.URL.Path), sw.status(), took.Round(time.Microsecond))
	})
}
