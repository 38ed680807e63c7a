//go:build unix

package test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// TestMmashMetricsLoad: 256 Prometheus-like clients scrape /metrics of
// 1,000 files at once (4 KiB files of the real writer). Every scrape gets
// a complete answer, and mmash's memory stays bounded: overlapping scrapes
// share one reading of the files. Before, this took a p99 of 1.5 min,
// failed 169 of 256 scrapes and peaked at 3.1 GiB. The latencies are
// logged, not checked (a speed is a benchmark's business).
func TestMmashMetricsLoad(t *testing.T) {
	const files, clients = 1000, 256
	dir := testutil.MemDir(t)
	data := template(t)
	for i := range files {
		testutil.WriteFile(t, dir, fmt.Sprintf("f%04d.mmstats", i), data)
	}
	m := &mmash{testutil.StartMmash(t, nil, dir)}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 5 * time.Minute}
	var mu sync.Mutex
	var latencies []time.Duration
	codes := map[string]int{}
	var wg sync.WaitGroup
	begin := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			res, err := client.Get(m.URL + "/metrics")
			code := "error"
			var body []byte
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
				code = fmt.Sprint(res.StatusCode)
			}
			if err == nil && strings.Count(string(body), "\nmmstats_every_counter_total{") != files {
				code += " incomplete"
			}
			mu.Lock()
			latencies = append(latencies, time.Since(start))
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if codes["200"] != clients {
		t.Errorf("answers: %v, want %d complete 200s", codes, clients)
	}
	rss := m.peakRSS(t)
	slices.Sort(latencies)
	p99 := latencies[len(latencies)*99/100]
	t.Logf("result: %d clients x /metrics of %d files in %v: p50 %v, p99 %v; mmash peak RSS %.0f MiB",
		clients, files, elapsed.Round(time.Millisecond), latencies[len(latencies)/2].Round(time.Millisecond),
		p99.Round(time.Millisecond), float64(rss)/(1<<20))
	if rss > 256<<20 {
		t.Errorf("peak RSS %d MiB, want at most 256 MiB", rss>>20)
	}
}
