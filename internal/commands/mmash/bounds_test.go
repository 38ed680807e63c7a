package mmash

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

// tinyFields returns n fields of 8 to 10 bytes with distinct labels: the
// fields of a crafted file whose parsing costs ~80 times its size.
func tinyFields(n int) []v1file.Field {
	fields := make([]v1file.Field, n)
	for i := range fields {
		fields[i] = v1file.Unbuffered(fmt.Sprintf("%x", i), "b", []byte{byte(i)})
	}
	return fields
}

// serverWith returns a server of dir with the default glob and cfg
// changed by change, logging into the returned builder.
func serverWith(t *testing.T, dir string, change func(*config)) (*server, *syncBuffer) {
	t.Helper()
	log := &syncBuffer{}
	cfg := defaultConfig()
	cfg.log = log
	if change != nil {
		change(&cfg)
	}
	s, err := newServerConfig(dir, "*.mmstats", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, log
}

// TestGlobThroughSymlinkLoops: four symlinks to "." let */*/*/... name
// 4^depth paths to the same file. Each directory is gone through once.
func TestGlobThroughSymlinkLoops(t *testing.T) {
	dir := t.TempDir()
	v1file.Write(t, filepath.Join(dir, "x.mmstats"), v1file.Unbuffered("n", "Q", v1file.U64(1)))
	for _, l := range []string{"a", "b", "c", "d"} {
		if err := os.Symlink(".", filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	s := newTestServer(t, dir)
	glob := strings.Repeat("*/", 8) + "*.mmstats"
	want := strings.Repeat("a/", 8) + "x.mmstats"
	var files struct{ Files []string }
	getJSON(t, s, "/files/"+glob, &files)
	if len(files.Files) != 1 || files.Files[0] != want {
		t.Errorf("GET /files/%s: %d files %.200v, want only %s", glob, len(files.Files), files.Files, want)
	}
	// The deepest glob allowed.
	glob = strings.Repeat("*/", maxGlobElems-1) + "*.mmstats"
	if r := get(t, s, "/files/"+glob); r.code != 200 || !strings.Contains(r.body, "x.mmstats") {
		t.Errorf("GET /files/%s: %d %s", glob, r.code, r.body)
	}
	var sum map[string]int
	getJSON(t, s, "/stats/n?exact=1&aggr=sum&glob="+strings.Repeat("*/", 6)+"*", &sum)
	if sum["n"] != 1 {
		t.Errorf("the file was read %d times", sum["n"])
	}
}

func TestGlobBounds(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		v1file.Write(t, filepath.Join(dir, fmt.Sprintf("f%02d.mmstats", i)), v1file.Unbuffered("n", "Q", v1file.U64(1)))
	}
	s := newTestServer(t, dir)
	long := strings.Repeat("x", maxGlobLen+1)
	for target, msg := range map[string]string{
		"/files/" + long:        "is longer than 1024 bytes",
		"/stats/n?glob=" + long: "is longer than 1024 bytes",
		"/files/" + strings.Repeat("*/", maxGlobElems) + "*": "has more than 16 path elements",
	} {
		if r := get(t, s, target); r.code != http.StatusBadRequest || !strings.Contains(r.body, msg) {
			t.Errorf("GET %.60s...: %d %s, want 400 %q", target, r.code, r.body, msg)
		}
	}
	if r := get(t, s, "/stats/"+strings.Repeat("x", maxURILen)); r.code != http.StatusRequestURITooLong || !strings.Contains(r.body, "longer than 8192 bytes") {
		t.Errorf("a long URI: %d %s, want 414", r.code, r.body)
	}

	defer func(m, w int) { maxGlobMatches, maxGlobWork = m, w }(maxGlobMatches, maxGlobWork)
	maxGlobMatches = 10
	if r := get(t, s, "/files/*"); r.code != http.StatusBadRequest || !strings.Contains(r.body, "matches more than 10 names") {
		t.Errorf("too many matches: %d %s", r.code, r.body)
	}
	// The default glob is the operator's: a server error, not the client's.
	if r := get(t, s, "/files/"); r.code != http.StatusInternalServerError || !strings.Contains(r.body, "the default glob") {
		t.Errorf("too many matches of the default glob: %d %s", r.code, r.body)
	}
	maxGlobMatches, maxGlobWork = 100, 15
	if r := get(t, s, "/files/f*"); r.code != http.StatusBadRequest || !strings.Contains(r.body, "looks at more than 15 directory entries") {
		t.Errorf("too much work: %d %s", r.code, r.body)
	}
	maxGlobWork = 100
	if r := get(t, s, "/files/f0*"); r.code != 200 || strings.Count(r.body, "mmstats") != 10 {
		t.Errorf("within the bounds: %d %s", r.code, r.body)
	}
}

// TestDirectoryReplaced: the stats directory is deleted and created
// again; mmash serves the new one, says so while it is missing, and logs
// each change once.
func TestDirectoryReplaced(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "stats")
	v1file.Write(t, filepath.Join(dir, "old.mmstats"), v1file.Unbuffered("n", "Q", v1file.U64(1)))
	s, log := serverWith(t, dir, nil)
	wantFiles := func(want string) {
		t.Helper()
		r := get(t, s, "/files/")
		if r.code != 200 || r.body != `{"files": [`+want+"]}\n" {
			t.Errorf("/files/: %d %s, want [%s]", r.code, r.body, want)
		}
	}
	wantFiles(`"old.mmstats"`)

	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"/files/", "/stats/", "/metrics", "/stats/n"} {
		if r := get(t, s, target); r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, dir+" is gone") {
			t.Errorf("GET %s without the directory: %d %s, want 503", target, r.code, r.body)
		}
	}
	if r := get(t, s, "/graph/"); r.code != http.StatusServiceUnavailable {
		t.Errorf("graph page without the directory: %d", r.code)
	}
	v1file.Write(t, filepath.Join(dir, "new.mmstats"), v1file.Unbuffered("n", "Q", v1file.U64(2)))
	wantFiles(`"new.mmstats"`)

	// Replaced while mmash was not looking: another directory renamed
	// over it.
	other := filepath.Join(parent, "other")
	v1file.Write(t, filepath.Join(other, "other.mmstats"), v1file.Unbuffered("n", "Q", v1file.U64(3)))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(other, dir); err != nil {
		t.Fatal(err)
	}
	wantFiles(`"other.mmstats"`)
	wantFiles(`"other.mmstats"`)

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	want := []string{
		"mmash: " + dir + ": stat " + dir + ": no such file or directory: serving no files until it is back",
		"mmash: " + dir + ": the directory is back: serving it again",
		"mmash: " + dir + ": the directory was replaced (deleted and created again?): serving the new one",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", log.String(), strings.Join(want, "\n"))
	}
}

// TestFileLimits: a file past --max-file-size, and a file whose fields
// need more than the memory for parsing, are skipped and logged once;
// an answer that outgrows a request's share fails.
func TestFileLimits(t *testing.T) {
	dir := t.TempDir()
	v1file.Write(t, filepath.Join(dir, "ok.mmstats"), v1file.Unbuffered("n", "Q", v1file.U64(1)))
	// 20,000 fields in 200 KB: parsing them costs ~13 MB.
	v1file.Write(t, filepath.Join(dir, "tiny.mmstats"), tinyFields(20000)...)
	big := make([]byte, 300<<10)
	big[0] = 1
	if err := os.WriteFile(filepath.Join(dir, "big.mmstats"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	s, log := serverWith(t, dir, func(c *config) {
		c.maxFileSize = 256 << 10
		c.maxMemory = 8 << 20 // 4 MiB to parse, 1 MiB an answer
	})
	for range 2 {
		var sum map[string]int
		getJSON(t, s, "/stats/n?exact=1&aggr=sum", &sum)
		if sum["n"] != 1 {
			t.Errorf("/stats/n = %v, want 1 (ok.mmstats only)", sum)
		}
	}
	want := []string{
		"mmash: " + filepath.Join(dir, "big.mmstats") + ": 0.3 MiB, larger than --max-file-size (0.2 MiB): not read",
		"mmash: " + filepath.Join(dir, "tiny.mmstats") + ": reading its 20000 fields needs about 12.6 MiB, more than the 4.0 MiB (--max-memory / 2) that all reading may take: not read",
	}
	if got := strings.TrimSpace(log.String()); got != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant (each once):\n%s", got, strings.Join(want, "\n"))
	}
	// Its labels need no parsing that keeps them: /stats/ lists them,
	// until the answer outgrows its share (1 MiB: 20,000 labels do).
	if r := get(t, s, "/stats/"); r.code != http.StatusInternalServerError || !strings.Contains(r.body, "the answer needs more than the 1.0 MiB a request may use") {
		t.Errorf("/stats/: %d %.300s", r.code, r.body)
	}
	s, _ = serverWith(t, dir, func(c *config) { c.maxFileSize = 256 << 10 })
	if r := get(t, s, "/stats/"); r.code != 200 || strings.Count(r.body, `"`) != 2*20001+2 {
		t.Errorf("/stats/ with the default limits: %d %.300s", r.code, r.body)
	}
}

// TestGraphManyLabels: /graph/ over 20,000 labels renders each of them
// (it was quadratic in the labels), and a label whose values are numbers
// and a string file by file.
func TestGraphManyLabels(t *testing.T) {
	dir := t.TempDir()
	for f := range 4 {
		fields := make([]v1file.Field, 5000)
		for i := range fields {
			fields[i] = v1file.Unbuffered(fmt.Sprintf("web.metric.%d.%05d", f, i), "Q", v1file.U64(uint64(i)))
		}
		v1file.Write(t, filepath.Join(dir, fmt.Sprintf("f%d.mmstats", f)), fields...)
	}
	// And one label in every file, with a string in the last.
	for f := range 4 {
		p := filepath.Join(dir, fmt.Sprintf("g%d.mmstats", f))
		if f == 3 {
			v1file.Write(t, p, v1file.Unbuffered("shared", "8s", v1file.Str("text", 8)))
		} else {
			v1file.Write(t, p, v1file.Unbuffered("shared", "Q", v1file.U64(10)))
		}
	}
	r := get(t, newTestServer(t, dir), "/graph/")
	if n := strings.Count(r.body, `<tr class="stat"`); r.code != 200 || n != 20000 {
		t.Errorf("/graph/: %d, %d rows, want 20000", r.code, n)
	}
	for _, want := range []string{
		`<a href="/stats/web.metric.3.04999?exact=1">web.metric.3.04999</a></td>
      <td class="num">1</td>
      <td class="how" data-how="sum">sum</td>
      <td class="num"><output data-value="4999">4999</output></td>`,
		// Numbers and a string do not add up: each file's value.
		`<dt data-kind="">shared</dt>
    <dd><span class="value">10</span><span class="file">g0.mmstats</span></dd>`,
		`<dd><span class="value">text</span><span class="file">g3.mmstats</span></dd>`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("/graph/ lacks\n%s", want)
		}
	}
}

// BenchmarkGraph compares /graph/ over N and 4N labels (in 4 files): the
// time per label stays flat.
func BenchmarkGraph(b *testing.B) {
	for _, n := range []int{5000, 20000} {
		b.Run(fmt.Sprintf("labels=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			for f := range 4 {
				fields := make([]v1file.Field, n/4)
				for i := range fields {
					fields[i] = v1file.Unbuffered(fmt.Sprintf("web.metric.%d.%05d", f, i), "Q", v1file.U64(uint64(i)))
				}
				v1file.Write(b, filepath.Join(dir, fmt.Sprintf("f%d.mmstats", f)), fields...)
			}
			s, err := newServer(dir, "*.mmstats")
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ResetTimer()
			for range b.N {
				w := &discardWriter{header: http.Header{}}
				r, _ := http.NewRequest("GET", "/graph/", nil)
				r.RequestURI = "/graph/"
				s.ServeHTTP(w, r)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/label")
		})
	}
}

type discardWriter struct{ header http.Header }

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

func TestVerboseLog(t *testing.T) {
	s, log := serverWith(t, fixture(t), func(c *config) { c.verbose = true })
	get(t, s, "/stats/web?exact=1")
	get(t, s, "/nope%1b[31m")
	get(t, s, "/files/..")
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	prefixes := []string{"mmash: GET /stats/web?exact=1 200 ", "mmash: GET /nope%1b[31m 404 ", "mmash: GET /files/.. 400 "}
	if len(lines) != len(prefixes) {
		t.Fatalf("log:\n%s", log.String())
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(lines[i], p) || !strings.HasSuffix(lines[i], "s") {
			t.Errorf("log line %q, want %q and a duration", lines[i], p)
		}
	}
}
