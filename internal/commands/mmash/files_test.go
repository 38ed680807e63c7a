package mmash

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// fixture makes a stats directory:
//
//	a.mmstats      web.requests 42, web.status "ok", load 1.5, up true, zero 0, app.sys.pid 100
//	b.mmstats      web.requests 7, web.status "busy", load 2.5, up false, zero 0, app.sys.pid 200, neg -5
//	sub/c.mmstats  web.requests 1
//	bad.mmstats    not an mmstats file (skipped)
//	fifo.mmstats   a FIFO (skipped, without blocking)
//	notes.txt      not matched by *.mmstats
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	v1file.Write(t, filepath.Join(dir, "a.mmstats"),
		v1file.Unbuffered("web.requests", "Q", v1file.U64(42)), v1file.Unbuffered("web.status", "16s", v1file.Str("ok", 16)),
		v1file.Unbuffered("load", "d", v1file.F64(1.5)), v1file.Unbuffered("up", "?", []byte{1}),
		v1file.Unbuffered("zero", "Q", v1file.U64(0)), v1file.Unbuffered("app.sys.pid", "Q", v1file.U64(100)))
	v1file.Write(t, filepath.Join(dir, "b.mmstats"),
		v1file.Unbuffered("web.requests", "Q", v1file.U64(7)), v1file.Unbuffered("web.status", "16s", v1file.Str("busy", 16)),
		v1file.Unbuffered("load", "d", v1file.F64(2.5)), v1file.Unbuffered("up", "?", []byte{0}),
		v1file.Unbuffered("zero", "Q", v1file.U64(0)), v1file.Unbuffered("app.sys.pid", "Q", v1file.U64(200)),
		v1file.Unbuffered("neg", "q", v1file.I64(-5)))
	v1file.Write(t, filepath.Join(dir, "sub", "c.mmstats"), v1file.Unbuffered("web.requests", "Q", v1file.U64(1)))
	if err := os.WriteFile(filepath.Join(dir, "bad.mmstats"), []byte("not stats"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(filepath.Join(dir, "fifo.mmstats"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newTestServer returns a server of dir with the default glob.
func newTestServer(t *testing.T, dir string) *server {
	t.Helper()
	s, err := newServer(dir, "*.mmstats")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// response is what a request got.
type response struct {
	code   int
	header http.Header
	body   string
}

// get sends GET target (a raw request URI, sent as is) to h.
func get(t *testing.T, h http.Handler, target string) response {
	t.Helper()
	return do(t, h, http.MethodGet, target)
}

func do(t *testing.T, h http.Handler, method, target string) response {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, nil))
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, string(body)}
}

// getJSON sends GET target, expects 200 and JSON, and decodes it into v.
func getJSON(t *testing.T, h http.Handler, target string, v any) {
	t.Helper()
	r := get(t, h, target)
	if r.code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", target, ct)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", target, err, r.body)
	}
}
