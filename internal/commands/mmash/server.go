package mmash

import (
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

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
type server struct {
	dir  *statsDir
	glob string // the files to read when a request names none
}

// newServer returns a server of the files in dir that glob (relative to
// dir) matches when a request names no glob.
func newServer(dir, glob string) (*server, error) {
	if err := checkGlob(glob); err != nil || glob == "" {
		return nil, fmt.Errorf("bad glob %q: relative to the stats directory, without \"..\", please", glob)
	}
	d, err := openStatsDir(dir)
	if err != nil {
		return nil, err
	}
	return &server{dir: d, glob: glob}, nil
}

// Close releases the stats directory.
func (s *server) Close() error { return s.dir.Close() }

// ServeHTTP routes a request. It matches the decoded path itself rather
// than through http.ServeMux, which would answer a path with ".." in it
// with a redirect: here such a request is a client error.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "/":
		s.index(w, r)
	case p == "/graph/":
		s.graph(w, r)
	case p == "/metrics":
		s.metrics(w, r)
	case p == "/stats/":
		s.labels(w, r)
	case strings.HasPrefix(p, "/stats/"):
		s.stat(w, r, strings.TrimPrefix(p, "/stats/"))
	case strings.HasPrefix(p, "/files/"):
		s.files(w, r, strings.TrimPrefix(p, "/files/"))
	case strings.HasPrefix(p, "/static/") && !strings.HasSuffix(p, "/") && !strings.Contains(p, ".."):
		staticFiles.ServeHTTP(w, r)
	case p == "/graph" || p == "/stats" || p == "/files":
		http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
	default:
		http.NotFound(w, r)
	}
}

// fileStats are the stats of one file.
type fileStats struct {
	name  string // relative to the stats directory
	stats []reader.Stat
}

// requestError is a client's mistake: status 400 with a message.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

// read reads the files that a client's glob matches, or the default glob
// when the client sent none. Files that cannot be read are skipped, as
// the original did. A client glob that is refused, or that matches a name
// leading outside the stats directory, is a requestError; the default glob
// just skips such names, so that a stray symlink in a shared directory
// such as /tmp cannot break the pages.
func (s *server) read(glob string) ([]fileStats, error) {
	client := glob != ""
	if !client {
		glob = s.glob
	} else if err := checkGlob(glob); err != nil {
		return nil, &requestError{fmt.Sprintf("glob %q: %v", glob, err)}
	}
	matches, escaped := s.dir.expand(glob)
	if client && len(escaped) > 0 {
		return nil, &requestError{fmt.Sprintf("glob %q: %s %v", glob, path.Clean(escaped[0]), errOutside)}
	}
	files := make([]fileStats, 0, len(matches))
	for _, m := range matches {
		stats, err := s.dir.read(m)
		if err != nil {
			continue
		}
		files = append(files, fileStats{name: m.name, stats: stats})
	}
	return files, nil
}

// pattern returns the files' pattern as a path, for pages and messages.
func (s *server) pattern() string { return path.Join(s.dir.path, s.glob) }
