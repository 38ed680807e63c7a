//go:build unix

package test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// TestMmashMetricsLoad: 256 Prometheus-like clients scrape /metrics of
// 1,000 files at once (copies of the test writer's file: 45 KiB, three
// histograms, 62 KiB of exposition each). Every scrape gets a complete
// answer, and mmash's memory stays bounded: overlapping scrapes share one
// reading of the files, and the answer is kept gzip-compressed, as the
// clients (and Prometheus) ask for it. Before, this took a p99 of 1.5 min,
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
	bodies := map[[sha256.Size]byte][]byte{} // the answers, each once
	var wg sync.WaitGroup
	begin := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			req, _ := http.NewRequest("GET", m.URL+"/metrics", nil)
			// Set by hand, the transport leaves the answer compressed.
			req.Header.Set("Accept-Encoding", "gzip")
			res, err := client.Do(req)
			code := "error"
			var body []byte
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
				code = fmt.Sprint(res.StatusCode)
				if res.Header.Get("Content-Encoding") != "gzip" {
					code += " not gzip"
				}
			}
			mu.Lock()
			latencies = append(latencies, time.Since(start))
			codes[code]++
			if err == nil {
				sum := sha256.Sum256(body)
				if _, ok := bodies[sum]; !ok {
					bodies[sum] = body
				}
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	if codes["200"] != clients {
		t.Errorf("answers: %v, want %d complete 200s", codes, clients)
	}
	rss := m.peakRSS(t)
	size, plain := 0, 0
	for _, body := range bodies {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		n, series := 0, 0
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			n += len(sc.Bytes()) + 1
			if bytes.HasPrefix(sc.Bytes(), []byte("mmstats_every_counter_total{")) {
				series++
			}
		}
		if sc.Err() != nil || series != files {
			t.Errorf("an answer has %d series of every.counter, want %d (%v)", series, files, sc.Err())
		}
		size, plain = len(body), n
	}
	slices.Sort(latencies)
	p99 := latencies[len(latencies)*99/100]
	t.Logf("result: %d clients x /metrics of %d files (%.1f MB of text, %.1f MB compressed; %d distinct answers) in %v: p50 %v, p99 %v; mmash peak RSS %.0f MiB",
		clients, files, float64(plain)/1e6, float64(size)/1e6, len(bodies), elapsed.Round(time.Millisecond),
		latencies[len(latencies)/2].Round(time.Millisecond), p99.Round(time.Millisecond), float64(rss)/(1<<20))
	if rss > 256<<20 {
		t.Errorf("peak RSS %d MiB, want at most 256 MiB", rss>>20)
	}
}
