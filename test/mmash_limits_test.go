//go:build unix

package test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// peakRSS returns mmash's peak resident memory so far (VmHWM), then
// stops it. (The Maxrss of its rusage would do, but for a child started
// with vfork it counts the pages of this test process too.)
func (m *mmash) peakRSS(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	var kib int64
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kib)
		}
	}
	if kib == 0 {
		t.Fatalf("no VmHWM in /proc/%d/status", m.Cmd.Process.Pid)
	}
	m.stop(t)
	return kib << 10
}

// craft writes a file of size bytes made of tiny fields (10 bytes each,
// with up to 238,328 distinct 3-byte labels): what parses into the most
// memory per byte.
func craft(t *testing.T, path string, size int) {
	t.Helper()
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 1, size)
	b[0] = 1
	for i := 0; len(b)+10 <= size; i++ {
		n := i % (62 * 62 * 62)
		b = binary.NativeEndian.AppendUint16(b, 3)
		b = append(b, alpha[n%62], alpha[n/62%62], alpha[n/3844])
		b = binary.NativeEndian.AppendUint16(b, 1)
		b = append(b, 'b', 0xff, byte(i))
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// getAll GETs each path n times at once and returns the statuses seen,
// with how many of each.
func (m *mmash) getAll(t *testing.T, n int, paths ...string) map[string]int {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range n {
		for _, p := range paths {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := httpClient.Get(m.URL + p)
				code := "error"
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					code = fmt.Sprint(res.StatusCode)
				}
				mu.Lock()
				seen[p+" "+code]++
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return seen
}

// TestMmashMemoryIsBounded: crafted files of tiny fields (which parse
// into ~80 times their size) and many requests at once keep mmash within
// --max-memory (plus the Go runtime's own): a file past --max-file-size is
// not read, the others are parsed one at a time within the budget, and
// answers that outgrow their share fail. Before, one request over the
// 63 MB file took 4.0 GiB, and 5 at once over a 16 MB one 4.3 GiB.
func TestMmashMemoryIsBounded(t *testing.T) {
	dir := testutil.MemDir(t)
	testutil.WriteFile(t, dir, "template.mmstats", template(t))
	craft(t, filepath.Join(dir, "huge.mmstats"), 63_000_000)
	for i := range 3 {
		craft(t, filepath.Join(dir, fmt.Sprintf("tiny%d.mmstats", i)), 600_000)
	}
	const limit = 256 << 20
	m := &mmash{testutil.StartMmash(t, nil, dir, "--max-memory", "256M", "--max-requests", "4")}
	paths := []string{"/files/", "/stats/", "/stats/" + counterLabel + "?exact=1&aggr=sum", "/stats/aaa?glob=tiny*", "/metrics", "/graph/"}
	seen := m.getAll(t, 4, paths...)
	t.Logf("statuses: %v", seen)
	if seen["/files/ 200"]+seen["/stats/aaa?glob=tiny* 200"]+seen["/stats/"+counterLabel+"?exact=1&aggr=sum 200"] != 12 {
		t.Errorf("requests failed: %v", seen)
	}
	m.wantFiles(t, "", "template.mmstats", "tiny0.mmstats", "tiny1.mmstats", "tiny2.mmstats")
	m.wantSum(t, 42)
	code, body := m.get(t, "/stats/aaa?exact=1&aggr=list&glob=tiny*")
	if code != 200 || body != `{"aaa": [0, 0, 0]}`+"\n" {
		t.Errorf("/stats/aaa over the crafted files: %d %s", code, body)
	}
	rss := m.peakRSS(t)
	stderr := m.Stderr()
	if n := strings.Count(stderr, "huge.mmstats: 60.1 MiB, larger than --max-file-size (16.0 MiB): not read\n"); n != 1 || len(lines(stderr)) != 1 {
		t.Errorf("stderr, want one line for huge.mmstats:\n%s", stderr)
	}
	t.Logf("result: peak RSS %.0f MiB over a 63 MB and three 600 kB crafted files, 6 routes x 4 clients at once, --max-memory 256M (bound: +128 MiB)",
		float64(rss)/(1<<20))
	if rss > limit+128<<20 {
		t.Errorf("peak RSS %d MiB, more than --max-memory (256 MiB) + 128 MiB", rss>>20)
	}
}

// TestMmashGlobBomb: four symlinks to "." in the directory (anyone can
// plant them in /tmp) once made */*/*/*/*/*/*/*/*/* cost 4^10 names and
// all of mmash's memory. Each directory is now gone through once.
func TestMmashGlobBomb(t *testing.T) {
	dir := testutil.SharedDir(t, 0o755)
	testutil.WriteFile(t, dir, "x.mmstats", template(t))
	for _, l := range []string{"a", "b", "c", "d"} {
		if err := os.Symlink(".", filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	m := &mmash{testutil.StartMmash(t, nil, dir)}
	glob := strings.Repeat("*/", 10) + "*.mmstats"
	m.wantFiles(t, glob, strings.Repeat("a/", 10)+"x.mmstats")
	code, body := m.get(t, "/files/"+strings.Repeat("*/", 16)+"*")
	if code != http.StatusBadRequest || !strings.Contains(body, "more than 16 path elements") {
		t.Errorf("17 levels: %d %s", code, body)
	}
	code, body = m.get(t, "/files/"+strings.Repeat("*", 60_000))
	if code != http.StatusRequestURITooLong || !strings.Contains(body, "longer than 8192 bytes") {
		t.Errorf("a 60 kB glob: %d %.200s", code, body)
	}
	// Past 64 KiB of request line and headers, the HTTP server refuses
	// the request itself (431) and closes the connection, which the
	// client may see reset while it still sends.
	if res, err := httpClient.Get(m.URL + "/files/" + strings.Repeat("*", 1_000_000)); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a 1 MB glob: %d", res.StatusCode)
		}
	}
	rss := m.peakRSS(t)
	t.Logf("result: peak RSS %.0f MiB for a 10-level glob through 4 symlinks to .", float64(rss)/(1<<20))
	if rss > 32<<20 {
		t.Errorf("peak RSS %d MiB for one glob", rss>>20)
	}
}

// openSockets counts the sockets that process pid has open.
func openSockets(t *testing.T, pid int) int {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// TestMmashStalledClients: clients that send a request's headers and
// stall, or announce a body and never send it, were held forever, each
// with a descriptor: 2x9,995 of them exhausted mmash's 20,000. Now mmash
// holds at most --max-connections, closes each after --read-timeout, and
// serves a real client after.
func TestMmashStalledClients(t *testing.T) {
	dir := testutil.SharedDir(t, 0o755)
	testutil.WriteFile(t, dir, "x.mmstats", template(t))
	m := &mmash{testutil.StartMmash(t, nil, dir, "--max-connections", "8", "--read-timeout", "1s")}
	pid := m.Cmd.Process.Pid
	base := openSockets(t, pid)
	host := strings.TrimPrefix(m.URL, "http://")
	var conns []net.Conn
	for i := range 40 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if i%2 == 0 {
			fmt.Fprintf(c, "GET /stats/ HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\nsome", host)
		} else {
			fmt.Fprintf(c, "GET /stats/ HTTP/1.1\r\nHost: %s\r\n", host)
		}
		conns = append(conns, c)
	}
	// While they stall, mmash holds at most 8 of them.
	most := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		most = max(most, openSockets(t, pid)-base)
	}
	if most > 8 {
		t.Errorf("mmash held %d more sockets with 40 stalled clients, want at most --max-connections (8)", most)
	}
	// Each stalled connection is closed by mmash (after its answer, for
	// those whose headers were complete).
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.SetReadDeadline(time.Now().Add(2 * time.Minute))
			if _, err := io.Copy(io.Discard, bufio.NewReader(c)); err != nil {
				t.Errorf("stalled client %d: %v, want its connection closed by mmash", i, err)
			}
		}()
	}
	wg.Wait()
	m.wantFiles(t, "", "x.mmstats")
	m.stop(t)
	t.Logf("result: 40 stalled clients, --max-connections 8: at most %d sockets more; each closed after --read-timeout 1s", most)
}

// TestMmashFollowsItsDirectory: the stats directory is deleted and
// created again under a running mmash, which used to serve the deleted
// one: {"files": []}, 200, nothing logged.
func TestMmashFollowsItsDirectory(t *testing.T) {
	dir := filepath.Join(testutil.SharedDir(t, 0o755), "stats")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, dir, "old.mmstats", template(t))
	m := &mmash{testutil.StartMmash(t, nil, dir)}
	m.wantFiles(t, "", "old.mmstats")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if code, body := m.get(t, "/files/"); code != http.StatusServiceUnavailable || !strings.Contains(body, "is gone") {
		t.Errorf("without the directory: %d %s, want 503", code, body)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, dir, "new.mmstats", withCounter(t, 7))
	m.wantFiles(t, "", "new.mmstats")
	m.wantSum(t, 7)
	m.stop(t)
	want := []string{
		"mmash: " + dir + ": stat " + dir + ": no such file or directory: serving no files until it is back",
		"mmash: " + dir + ": the directory is back: serving it again",
	}
	if got := lines(m.Stderr()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant:\n%s", m.Stderr(), strings.Join(want, "\n"))
	}
}
