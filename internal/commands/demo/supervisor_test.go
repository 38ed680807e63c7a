package demo

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"
)

// TestPause checks the crash-loop guard's pauses: doubling from
// firstPause, never above maxPause.
func TestPause(t *testing.T) {
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond,
		800 * time.Millisecond, 1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond,
		10 * time.Second, 10 * time.Second}
	for i, w := range want {
		r := &respawner{crashes: i + 1}
		if got := r.pause(); got != w {
			t.Errorf("after %d crashes: pause %v, want %v", i+1, got, w)
		}
	}
	if got := (&respawner{crashes: 1000}).pause(); got != maxPause {
		t.Errorf("after 1000 crashes: pause %v, want %v", got, maxPause)
	}
}

// TestLogRequests checks the -vv line of a request: its path is quoted
// when it holds control characters.
func TestLogRequests(t *testing.T) {
	var log bytes.Buffer
	h := logRequests(newHandler(new(WebStats)), &log)
	for _, path := range []string{"/500", "/%1b[31mred"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	want := regexp.MustCompile(`^mmstats-demo: worker \d+: GET /500 500 \S+
mmstats-demo: worker \d+: GET "/\\033\[31mred" 404 \S+
$`)
	if !want.MatchString(log.String()) {
		t.Errorf("log:\n%s\nwant %v", log.String(), want)
	}
}
