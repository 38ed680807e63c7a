package mmash

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/mmstats/mmstats/internal/prom"
	"github.com/mmstats/mmstats/pkg/reader"
)

// seriesCost and familyCost are what the answer of /metrics keeps for
// one series (its place in the prom.Set and its line of text) and for
// one metric (its map of series, help and type lines).
const (
	seriesCost = 256
	familyCost = 768
)

// serveMetrics serves GET /metrics: every numeric stat of the default
// files in the Prometheus text format, one series per file, labelled with
// the file's base name and its writer's PID (see prom.Set.AddFileGroups),
// and each histogram group as a Prometheus histogram; or, to a scraper
// that asks for it first (Prometheus with native histograms), the same in
// the protobuf format, where the histograms are native ones too.
// Scrapes that arrive while an answer is being made wait for it and get
// it too: a hundred Prometheus servers cost one reading of the files.
// The answer is made and kept gzip-compressed (a histogram is 32 lines
// that differ little at the default classic schema, 242 at
// --classic-schema 3, and the answer of a thousand files megabytes of
// text): a client that accepts gzip, as Prometheus does, gets it as it
// is; another gets it decompressed as it is sent.
func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	proto := prom.WantsProto(r.Header)
	fl, contentType := &s.metrics, prom.ContentType
	gz := acceptsGzip(r.Header)
	// The text of the default files for a client that does not take
	// gzip (curl) is made for it, rather than compressed and then
	// decompressed.
	plain := !proto && !gz && !s.cfg.aggregate
	switch {
	case proto:
		fl, contentType = &s.metricsProto, prom.ProtoContentType
	case plain:
		fl = &s.metricsPlain
	}
	body, err := fl.do(r.Context(), func() ([]byte, error) {
		// Not the first client's context: the others share the answer
		// even if that client goes.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.timeout)
		defer cancel()
		var body []byte
		err := s.withJob(ctx, func(j *job) (err error) {
			if s.cfg.aggregate {
				body, err = j.aggregateMetrics(proto)
			} else if !proto {
				body, err = j.cachedMetrics(!plain)
			} else {
				body, err = j.metrics(proto)
			}
			return err
		})
		return body, err
	})
	if err != nil {
		s.fail(w, err, false)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept, Accept-Encoding")
	if gz || plain {
		if gz {
			h.Set("Content-Encoding", "gzip")
		}
		w.Write(body) // an error means the client has gone
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err == nil {
		_, err = io.Copy(w, zr)
	}
	if err != nil && r.Context().Err() == nil {
		s.logf("/metrics: %v", err) // cannot happen: mmash compressed it
	}
}

// acceptsGzip reports whether a request's Accept-Encoding allows gzip
// (or any coding, *), with a quality above 0.
func acceptsGzip(h http.Header) bool {
	for _, v := range h.Values("Accept-Encoding") {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			if c := strings.TrimSpace(coding); !strings.EqualFold(c, "gzip") && c != "*" {
				continue
			}
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			return q > 0
		}
	}
	return false
}

// metrics returns the exposition of the default files, in the protobuf
// format if proto, gzip-compressed.
func (j *job) metrics(proto bool) ([]byte, error) {
	set := prom.Set{Classic: j.s.cfg.classic}
	var groups []prom.Group
	err := j.eachReader("", func(name string, f *reader.File, stats []reader.Stat) error {
		series, families, hist := set.Len(), set.Families(), set.HistogramBytes()
		// A group whose buckets cannot be read is left out of groups:
		// its stats are series one by one.
		groups, _ = prom.ReadGroups(f, groups)
		set.AddFileGroups(name, "", stats, groups)
		n := (set.Len()-series)*seriesCost + (set.Families()-families)*familyCost + set.HistogramBytes() - hist
		for _, st := range stats {
			n += 2 * len(st.Label)
		}
		return j.grow(n)
	})
	if err != nil {
		return nil, err
	}
	return j.compress(&set, proto)
}

// compress returns set's exposition, in the protobuf format if proto,
// gzip-compressed, and accounts for its memory.
func (j *job) compress(set *prom.Set, proto bool) ([]byte, error) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a valid level: no error
	if proto {
		set.WriteProto(zw) // cannot fail
	} else {
		set.WriteTo(zw)
	}
	zw.Close()
	return buf.Bytes(), j.grow(buf.Cap())
}

// flight runs one call of a function at a time and gives its result to
// every caller that came while it ran.
type flight struct {
	mu   sync.Mutex
	call *flightCall
}

type flightCall struct {
	done chan struct{}
	body []byte
	err  error
}

// do returns the result of the call of fn that is running, or of a new
// one; a caller whose ctx ends stops waiting.
func (f *flight) do(ctx context.Context, fn func() ([]byte, error)) ([]byte, error) {
	f.mu.Lock()
	c := f.call
	if c == nil {
		c = &flightCall{done: make(chan struct{})}
		f.call = c
		f.mu.Unlock()
		go func() {
			c.body, c.err = fn()
			f.mu.Lock()
			f.call = nil
			f.mu.Unlock()
			close(c.done)
		}()
	} else {
		f.mu.Unlock()
	}
	select {
	case <-c.done:
		return c.body, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
