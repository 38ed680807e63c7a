//go:build unix

package test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/testutil"
)

// mmash is a running mmash serving one directory.
type mmash struct{ *testutil.Mmash }

var httpClient = &http.Client{Timeout: 2 * time.Minute}

// get returns the status and body of GET path.
func (m *mmash) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get(m.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v; mmash stderr:\n%s", path, err, m.Stderr())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// wantFiles checks that GET /files/GLOB lists exactly names.
func (m *mmash) wantFiles(t testing.TB, glob string, names ...string) {
	t.Helper()
	code, body := m.get(t, "/files/"+glob)
	var got struct{ Files []string }
	if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil || !slices.Equal(got.Files, names) {
		t.Errorf("GET /files/%s: %d %s, want files %v", glob, code, body, names)
	}
}

// wantSum checks that the sum of every.counter over the files is want.
func (m *mmash) wantSum(t testing.TB, want uint64) {
	t.Helper()
	path := "/stats/" + counterLabel + "?exact=1&aggr=sum"
	code, body := m.get(t, path)
	d := json.NewDecoder(bytes.NewReader([]byte(body)))
	d.UseNumber()
	var got map[string]json.Number
	if err := d.Decode(&got); code != 200 || err != nil || got[counterLabel].String() != jsonUint(want) {
		t.Errorf("GET %s: %d %s, want %d", path, code, body, want)
	}
}

// stop ends mmash with SIGTERM: it must exit 0, without a crash.
func (m *mmash) stop(t testing.TB) {
	t.Helper()
	if code := (&proc{m.Process}).stop(t); code != 0 {
		t.Errorf("mmash: exit %d after SIGTERM; stderr:\n%s", code, m.Stderr())
	}
	noCrash(t, "mmash", m.Stderr())
}

func jsonUint(v uint64) string { b, _ := json.Marshal(v); return string(b) }
