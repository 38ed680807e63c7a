package mmash

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/aggregate"
)

// maxURILen is the longest request URI mmash answers (414 past it): a
// glob is at most maxGlobLen bytes, and a label as long as that is no
// label anyone reads.
const maxURILen = 8 << 10

// config holds the limits of a server and where it logs.
type config struct {
	maxFileSize int64              // files larger are not read
	maxMemory   int64              // what reading files may take, in all
	maxRequests int                // requests that read files at once
	timeout     time.Duration      // how long a request may take to be answered
	log         io.Writer          // per-file limits, changes of the directory, requests
	verbose     bool               // log every request
	aggregate   bool               // /metrics: one series per stat over the files (--aggregate)
	classic     prom.ClassicSchema // /metrics: the histograms' classic buckets (--classic-schema)
}

// defaultConfig is the configuration of the flags' defaults, logging
// nowhere.
func defaultConfig() config {
	return config{
		maxFileSize: 16 << 20, // the Go writer's default Options.MaxSize
		maxMemory:   512 << 20,
		maxRequests: 4,
		timeout:     time.Minute,
		log:         io.Discard,
	}
}

// server is mmash's HTTP handler. It only reads, and only the files in its
// stats directory (see statsDir). Routes:
//
//	GET /                  the labels, as HTML
//	GET /graph/            string values, and numeric values with live plots
//	GET /static/NAME       the page's script and style sheet
//	GET /stats/            {"stats": [labels]}
//	GET /stats/NAME        {label: [values]} for the labels that start with
//	                       NAME; ?exact=1, ?glob=GLOB, ?aggr=AGGREGATOR
//	GET /files/[GLOB]      {"files": [names]}
//	GET /metrics           the numeric stats for Prometheus
//
// Every route but /static/ reads files: those requests pass the gate (at
// most cfg.maxRequests at once) and read under the memory limits of
// read.go; /metrics requests that come while one is being answered share
// its answer.
type server struct {
	dir  *statsDir
	glob string // the files to read when a request names none
	cfg  config

	gate         *gate
	parsing      *budget
	metrics      flight // the text format
	metricsProto flight // the protobuf format
	metricsPlain flight // the text format, not compressed (see serveMetrics)
	monotone     monotone
	cache        fileCache // the default files, kept open between requests
	accumulators sync.Pool // of *aggregate.Accumulator, for --aggregate: their memory used again

	logMu  sync.Mutex
	logged map[string]bool // the file errors logged already

	copies atomic.Bool // said that files are read as copies (no mapping left)
}

// newServer returns a server of the files in dir that glob (relative to
// dir) matches when a request names no glob, with the default limits.
func newServer(dir, glob string) (*server, error) { return newServerConfig(dir, glob, defaultConfig()) }

// newServerConfig is newServer with the limits of cfg.
func newServerConfig(dir, glob string, cfg config) (*server, error) {
	if err := checkGlob(glob); err != nil || glob == "" {
		return nil, fmt.Errorf("bad glob %q: relative to the stats directory, without \"..\", please", glob)
	}
	if cfg.log == nil {
		cfg.log = io.Discard
	}
	s := &server{glob: glob, cfg: cfg, logged: map[string]bool{}}
	s.accumulators.New = func() any { return new(aggregate.Accumulator) }
	s.cache.mu = make(chan struct{}, 1)
	d, err := openStatsDir(dir, s.logf)
	if err != nil {
		return nil, err
	}
	s.dir = d
	// A request waits for a slot for at most half its time, so that it
	// can still be answered; the queue is a few times the slots.
	s.gate = newGate(cfg.maxRequests, 8*cfg.maxRequests, cfg.timeout/2)
	s.parsing = newBudget(cfg.maxMemory / 2)
	return s, nil
}

// Close releases the stats directory.
func (s *server) Close() error {
	s.cache.close()
	return s.dir.Close()
}

// answerLimit is what one request may keep for its answer.
func (s *server) answerLimit() int64 { return s.cfg.maxMemory / 2 / int64(s.cfg.maxRequests) }

// logf writes one line to the log.
func (s *server) logf(format string, args ...any) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	fmt.Fprintf(s.cfg.log, "mmash: "+format+"\n", args...)
}

// fileLog logs that a limit kept a file from being read, once for each
// file and reason (the set is forgotten when it grows large, so that it
// stays small).
func (s *server) fileLog(name, msg string) {
	key := name + "\x00" + msg
	s.logMu.Lock()
	seen := s.logged[key]
	if !seen {
		if len(s.logged) >= 10000 {
			clear(s.logged)
		}
		s.logged[key] = true
	}
	s.logMu.Unlock()
	if !seen {
		s.logf("%s: %s", cli.Quote(name), msg)
	}
}

// sayCopies logs, once for mmash's life, that the process has no memory
// mapping left (vm.max_map_count), so that the file name and those
// opened after it are copies read whole at every request: over 100,000
// files, a /stats request took 15 s so and 1.2 s with a
// vm.max_map_count of 262,144 (all mapped). Only Linux has that limit
// to raise; on Windows every file is read so, as the rule.
func (s *server) sayCopies(name string) {
	// (Loaded first: past the budget, every file opened is a copy, and
	// a compare-and-swap would write the shared word each time.)
	if runtime.GOOS == "linux" && !s.copies.Load() && s.copies.CompareAndSwap(false, true) {
		s.logf("out of memory mappings (vm.max_map_count): %s and the files opened past it are read whole at every request; "+
			"a vm.max_map_count above the number of files keeps them all mapped, for a fraction of the time", cli.Quote(name))
	}
}

// ServeHTTP logs the request when verbose, and routes it.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.verbose {
		s.route(w, r)
		return
	}
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		s.logf("%s %s %d %v", cli.Quote(r.Method), cli.Quote(r.RequestURI), sw.code, time.Since(start).Round(time.Microsecond))
	}()
	s.route(sw, r)
}

// statusWriter remembers the status of a response, for the log.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// route routes a request. It matches the decoded path itself rather than
// through http.ServeMux, which would answer a path with ".." in it with a
// redirect: here such a request is a client error.
func (s *server) route(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if len(r.RequestURI) > maxURILen {
		writeError(w, http.StatusRequestURITooLong, fmt.Sprintf("the request URI is longer than %d bytes", maxURILen))
		return
	}
	p := r.URL.Path
	switch {
	case p == "/":
		s.serve(w, r, true, s.index)
	case p == "/graph/":
		s.serve(w, r, true, s.graph)
	case p == "/metrics":
		s.serveMetrics(w, r)
	case p == "/stats/":
		s.serve(w, r, false, s.labels)
	case strings.HasPrefix(p, "/stats/"):
		s.serve(w, r, false, func(j *job, w http.ResponseWriter, r *http.Request) error {
			return s.stat(j, w, r, strings.TrimPrefix(p, "/stats/"))
		})
	case strings.HasPrefix(p, "/files/"):
		s.serve(w, r, false, func(j *job, w http.ResponseWriter, r *http.Request) error {
			return s.files(j, w, r, strings.TrimPrefix(p, "/files/"))
		})
	case strings.HasPrefix(p, "/static/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, ".."):
		staticFiles.ServeHTTP(w, r)
	case p == "/graph" || p == "/stats" || p == "/files":
		http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
	default:
		http.NotFound(w, r)
	}
}

// A handler reads files through j and writes its answer to w, or returns
// the error to answer instead.
type handler func(j *job, w http.ResponseWriter, r *http.Request) error

// serve runs a handler that reads files: it waits for a slot at the gate,
// gives the handler a job of the request, and answers an error as JSON
// (or as text for a page).
func (s *server) serve(w http.ResponseWriter, r *http.Request, page bool, h handler) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.timeout)
	defer cancel()
	err := s.withJob(ctx, func(j *job) error { return h(j, w, r) })
	if err != nil {
		s.fail(w, err, page)
	}
}

// withJob runs fn with a job, once the gate lets it.
func (s *server) withJob(ctx context.Context, fn func(*job) error) error {
	leave, err := s.gate.enter(ctx)
	if err != nil {
		return err
	}
	defer leave()
	j, err := s.newJob(ctx)
	if err != nil {
		return err
	}
	defer j.done()
	return fn(j)
}

// requestError is a client's mistake: status 400 with a message.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

// fail answers err: 400 for a client's mistake, 503 when mmash is busy
// (with Retry-After) or the directory is gone, 500 otherwise.
func (s *server) fail(w http.ResponseWriter, err error, page bool) {
	code := http.StatusInternalServerError
	msg := err.Error()
	var re *requestError
	var be *errBusy
	var de *dirError
	switch {
	case errors.As(err, &re):
		code = http.StatusBadRequest
	case errors.As(err, &be):
		code = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "1")
	case errors.As(err, &de):
		code = http.StatusServiceUnavailable
		msg = fmt.Sprintf("the stats directory %s is gone: %v", s.dir.path, de.err)
	case errors.Is(err, context.DeadlineExceeded):
		code = http.StatusServiceUnavailable
		msg = fmt.Sprintf("the answer took longer than --timeout (%v)", s.cfg.timeout)
	case errors.Is(err, context.Canceled):
		code = http.StatusServiceUnavailable
		msg = "the request was cancelled"
	}
	if page {
		http.Error(w, fmt.Sprintf("%d %s", code, msg), code)
		return
	}
	writeError(w, code, msg)
}

// pattern returns the files' pattern as a path, for pages and messages.
func (s *server) pattern() string { return path.Join(s.dir.path, s.glob) }
