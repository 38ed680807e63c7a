package mmash

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"io"
	"testing"
	"time"
)

func TestGzSpeed(t *testing.T) {
	s, _ := newServer(benchDir(t, 1000, false), "*.mmstats")
	defer s.Close()
	text := []byte(get(t, s, "/metrics").body)
	for _, lvl := range []int{gzip.BestSpeed, flate.HuffmanOnly, 2} {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, lvl)
		best := time.Hour
		for range 5 {
			buf.Reset()
			zw.Reset(&buf)
			st := time.Now()
			zw.Write(text)
			zw.Close()
			best = min(best, time.Since(st))
		}
		t.Logf("level %d: %d -> %d bytes in %v", lvl, len(text), buf.Len(), best)
	}
	st := time.Now()
	io.Copy(io.Discard, bytes.NewReader(text))
	t.Log(time.Since(st))
}
