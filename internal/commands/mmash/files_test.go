package mmash

import (
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// field is one unbuffered field of a test file.
type field struct {
	label, typ string
	value      []byte
}

func u64(v uint64) field { return field{typ: "Q", value: binary.NativeEndian.AppendUint64(nil, v)} }
func i64(v int64) field {
	return field{typ: "q", value: binary.NativeEndian.AppendUint64(nil, uint64(v))}
}
func f64(v float64) field {
	return field{typ: "d", value: binary.NativeEndian.AppendUint64(nil, math.Float64bits(v))}
}
func boolean(v bool) field {
	if v {
		return field{typ: "?", value: []byte{1}}
	}
	return field{typ: "?", value: []byte{0}}
}
func str(s string) field {
	b := make([]byte, 16)
	copy(b, s)
	return field{typ: "16s", value: b}
}

// stat names a field.
func stat(label string, f field) field { f.label = label; return f }

// writeStats writes a v1 file of unbuffered fields, zero-padded to a page.
func writeStats(t testing.TB, path string, fields ...field) {
	t.Helper()
	b := []byte{1}
	for _, f := range fields {
		b = binary.NativeEndian.AppendUint16(b, uint16(len(f.label)))
		b = append(b, f.label...)
		b = binary.NativeEndian.AppendUint16(b, uint16(len(f.typ)))
		b = append(b, f.typ...)
		b = append(b, 0xff)
		b = append(b, f.value...)
	}
	b = append(b, make([]byte, 4096-len(b)%4096)...)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

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
	writeStats(t, filepath.Join(dir, "a.mmstats"),
		stat("web.requests", u64(42)), stat("web.status", str("ok")), stat("load", f64(1.5)),
		stat("up", boolean(true)), stat("zero", u64(0)), stat("app.sys.pid", u64(100)))
	writeStats(t, filepath.Join(dir, "b.mmstats"),
		stat("web.requests", u64(7)), stat("web.status", str("busy")), stat("load", f64(2.5)),
		stat("up", boolean(false)), stat("zero", u64(0)), stat("app.sys.pid", u64(200)), stat("neg", i64(-5)))
	writeStats(t, filepath.Join(dir, "sub", "c.mmstats"), stat("web.requests", u64(1)))
	if err := os.WriteFile(filepath.Join(dir, "bad.mmstats"), []byte("not stats"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.mmstats"), 0o644); err != nil {
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
