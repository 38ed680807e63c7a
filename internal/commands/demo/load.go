package demo

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// mix is the cycle of paths the load requests: per cycle of ten, seven
// 2XX (/ and /status), one 3XX (/redirect, not followed), one 4XX (an
// unknown path) and one 5XX (/500). Every class shows up in the first ten
// requests, so a short run already moves all four counters.
//
// The last request of each cycle closes its connection, so that the load
// opens new connections now and then: the workers share one socket, and
// each new connection goes to whichever worker accepts it first. With
// keep-alive alone, one worker could answer all the load.
var mix = []string{"/", "/", "/redirect", "/", "/status", "/nope", "/", "/", "/500", "/"}

// maxInFlight bounds the load's concurrent requests. When they are all
// busy, a tick is skipped rather than queued: the load never piles up on a
// slow server.
const maxInFlight = 16

// load sends GET requests at rate per second to base (such as
// http://127.0.0.1:5001), cycling through mix.
type load struct {
	base   string
	rate   float64
	client *http.Client
}

// newLoad returns a load on base whose client does not follow redirects.
func newLoad(base string, rate float64) *load {
	return &load{
		base: base,
		rate: rate,
		client: &http.Client{
			Transport: &http.Transport{MaxIdleConnsPerHost: maxInFlight},
			Timeout:   10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse // a 3XX is an answer to count
			},
		},
	}
}

// run sends requests until ctx is done, waits for those in flight and
// returns how many it sent. Failed requests are not reported: the server
// counts what it answers.
func (l *load) run(ctx context.Context) int {
	interval := max(time.Duration(float64(time.Second)/l.rate), time.Microsecond)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer l.client.CloseIdleConnections()
	defer wg.Wait()
	sent := 0
	for {
		select {
		case <-ctx.Done():
			return sent
		case <-tick.C:
		}
		select {
		case sem <- struct{}{}:
		default:
			continue
		}
		path, last := mix[sent%len(mix)], sent%len(mix) == len(mix)-1
		sent++
		wg.Go(func() {
			defer func() { <-sem }()
			l.get(ctx, path, last)
		})
	}
}

// get requests path and discards the answer; with closeConn, it closes
// the connection afterwards.
func (l *load) get(ctx context.Context, path string, closeConn bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.base+path, nil)
	if err != nil {
		return
	}
	req.Close = closeConn
	resp, err := l.client.Do(req)
	if err != nil {
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}
