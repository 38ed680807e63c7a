package mmash

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
)

// settledGoroutines waits until the number of goroutines is want (a
// goroutine that ended may take a moment to be gone), and fails if it
// does not come.
func settledGoroutines(t *testing.T, want int, what string) {
	t.Helper()
	for start := time.Now(); runtime.NumGoroutine() != want; runtime.Gosched() {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: %d goroutines, want %d", what, runtime.NumGoroutine(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestMetricsHelper: the goroutine that reads files and makes pieces of
// /metrics beside the request's (the cache's prom.Helper) is started
// once, by the first answer over many files, and is the same one at
// every answer after, changed files or not (no goroutine started per
// answer); the server's Close ends it. Among the files, a live writer's
// adds a field in place, then grows its file into a copy: looked at by
// the goroutine that reads it (entry.verify), it is opened again and in
// the next answer.
func TestMetricsHelper(t *testing.T) {
	const n = 300 // past splitNumbers, and many pieces
	dir := benchDir(t, n, true)
	words := benchDirWords(t, dir, n)
	var m struct {
		Reqs mmstats.Counter `mmstats:"reqs"`
	}
	live, err := mmstats.New(&m, mmstats.Options{Dir: dir, Filename: "w000150-live.mmstats"})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Remove()
	m.Reqs.Add(3)
	var more []*mmstats.Counter
	before := runtime.NumGoroutine()
	s, err := newServerConfig(dir, "*.mmstats", defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	scrapeMetrics(t, s, true)
	h := s.cache.help
	if h == nil {
		t.Fatal("no helper after an answer over 300 files")
	}
	settledGoroutines(t, before+1, "after the first answer")
	for round := range 6 {
		for i := range words {
			if round%2 == 0 || i%10 == 0 {
				words[i].request(t, 1, 5+round)
			}
		}
		switch round {
		case 2: // a field added in place
			more = append(more, new(mmstats.Counter))
			if err := live.Add("extra", more[0]); err != nil {
				t.Fatal(err)
			}
			more[0].Add(8)
		case 4: // so many that the writer grows its file into a copy
			for size := live.Size(); live.Size() == size; {
				c := new(mmstats.Counter)
				if err := live.Add(fmt.Sprintf("more.%03d", len(more)), c); err != nil {
					t.Fatal(err)
				}
				c.Add(uint64(len(more)))
				more = append(more, c)
				if len(more) > 10000 {
					t.Fatal("the file never grew")
				}
			}
		}
		if got, want := scrapeMetrics(t, s, true), freshMetrics(t, dir, ""); got != want {
			t.Fatalf("round %d: /metrics differs from a Set of the files\n%s", round, firstDiff(got, want))
		}
		if s.cache.help != h {
			t.Fatalf("round %d: another helper", round)
		}
		settledGoroutines(t, before+1, fmt.Sprintf("after round %d", round))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	settledGoroutines(t, before, "after Close")
}

// TestMetricsConcurrentScrapes: scrapes of /metrics, gzip or not, and
// reads of /stats/ from several clients at once while the files change
// each get a whole answer, which no later answer writes into (run with
// -race: the buffers of an answer, the helper's work and the pieces it
// makes are not shared with another request's); once the files stop
// changing, every answer is the text of a Set of the files.
func TestMetricsConcurrentScrapes(t *testing.T) {
	const n = 200
	dir := benchDir(t, n, true)
	words := benchDirWords(t, dir, n)
	s, err := newServerConfig(dir, "*.mmstats", defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stop := make(chan struct{})
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		rng := rand.New(rand.NewPCG(17, 18))
		for {
			select {
			case <-stop:
				return
			default:
			}
			words[rng.IntN(n)].request(t, 1, rng.IntN(50))
		}
	}()
	// Four clients: gzip (as Prometheus), gzip, without (as curl), and
	// one that reads /stats/ between its scrapes. Their answers are kept
	// while the others are made, and checked once all are made: each
	// must still be whole.
	answers := make([][]string, 4)
	var clients sync.WaitGroup
	for c := range answers {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for k := range 6 {
				if c == 3 && k%2 == 1 {
					get(t, s, "/stats/web.stats.status.2XX")
					continue
				}
				answers[c] = append(answers[c], scrapeMetrics(t, s, c != 2))
			}
		}()
	}
	clients.Wait()
	close(stop)
	<-writer
	for c := range answers {
		for k, a := range answers[c] {
			if !strings.HasSuffix(a, "\n") || !strings.Contains(a, `_bucket{file="w000199.mmstats"`) || !strings.Contains(a, `working{file="w000199.mmstats"`) {
				t.Errorf("client %d, answer %d: not a whole exposition (%d bytes): …%q", c, k, len(a), a[max(0, len(a)-300):])
			}
		}
	}
	want := freshMetrics(t, dir, "")
	for _, gz := range []bool{true, false} {
		if got := scrapeMetrics(t, s, gz); got != want {
			t.Fatalf("gzip %v, after: /metrics differs from a Set of the files\n%s", gz, firstDiff(got, want))
		}
	}
}
