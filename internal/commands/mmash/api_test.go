package mmash

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil/v1file"
)

func TestStatsList(t *testing.T) {
	s := newTestServer(t, fixture(t))
	r := get(t, s, "/stats/")
	want := `{"stats": ["app.sys.pid", "load", "neg", "up", "web.requests", "web.status", "zero"]}` + "\n"
	if r.code != 200 || r.body != want {
		t.Errorf("got %d %s, want %s", r.code, r.body, want)
	}
}

func TestStat(t *testing.T) {
	s := newTestServer(t, fixture(t))
	tests := []struct{ target, want string }{
		// No aggr: each label combined by its policy (files without
		// metadata sum; strings are not combined and keep their list).
		{"/stats/web", `{"web.requests": 49, "web.status": ["ok", "busy"]}`},
		{"/stats/load", `{"load": 4.0}`},
		{"/stats/web.requests?glob=b.mmstats", `{"web.requests": 7}`},
		// aggr=list, the original's answer with no aggr: every label that
		// starts with the name, values by file name.
		{"/stats/web?aggr=list", `{"web.requests": [42, 7], "web.status": ["ok", "busy"]}`},
		{"/stats/web.requests?aggr=list", `{"web.requests": [42, 7]}`},
		{"/stats/w?aggr=list", `{"web.requests": [42, 7], "web.status": ["ok", "busy"]}`},
		{"/stats/load?aggr=list", `{"load": [1.5, 2.5]}`},
		{"/stats/up?aggr=list", `{"up": [true, false]}`},
		{"/stats/neg?aggr=list", `{"neg": [-5]}`},
		{"/stats/nothing?aggr=list", `{}`},
		// exact: the label itself only (the original fell through to the prefix).
		{"/stats/web?exact=1&aggr=list", `{}`},
		{"/stats/web.req?exact=yes&aggr=list", `{}`},
		{"/stats/web.requests?exact=1&aggr=list", `{"web.requests": [42, 7]}`},
		{"/stats/web.req?exact=0&aggr=list", `{"web.requests": [42, 7]}`},
		{"/stats/web.req?exact=&aggr=list", `{"web.requests": [42, 7]}`},
		// glob: the files, relative to the stats directory.
		{"/stats/web.requests?glob=b.mmstats&aggr=list", `{"web.requests": [7]}`},
		{"/stats/web.requests?glob=sub/*&aggr=list", `{"web.requests": [1]}`},
		{"/stats/web.requests?glob=*/c.mmstats&aggr=list", `{"web.requests": [1]}`},
		{"/stats/web.requests?glob=./sub//c.mmstats&aggr=list", `{"web.requests": [1]}`},
		{"/stats/web.requests?aggr=list&glob=" + url.QueryEscape("[ab].mmstats"), `{"web.requests": [42, 7]}`},
		{"/stats/web.requests?glob=missing.mmstats&aggr=list", `{}`},
		{"/stats/web.requests?glob=notes.txt&aggr=list", `{}`},
		{"/stats/web.requests?glob=fifo.mmstats&aggr=list", `{}`},
		{"/stats/web.requests?glob=sub&aggr=list", `{}`},
	}
	for _, tt := range tests {
		r := get(t, s, tt.target)
		if r.code != 200 || r.body != tt.want+"\n" {
			t.Errorf("GET %s: %d %s, want %s", tt.target, r.code, r.body, tt.want)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("GET %s: Content-Type %q", tt.target, ct)
		}
	}
}

func TestStatAggregators(t *testing.T) {
	s := newTestServer(t, fixture(t))
	tests := []struct{ query, want string }{
		{"web.requests?aggr=sum", `{"web.requests": 49}`},
		{"web.requests?aggr=avg", `{"web.requests": 24.5}`},
		{"web.requests?aggr=max", `{"web.requests": 42}`},
		{"web.requests?aggr=min", `{"web.requests": 7}`},
		{"web.requests?aggr=one", `{"web.requests": 42}`},
		{"web.requests?aggr=nonzero-min", `{"web.requests": 7}`},
		{"web.requests?aggr=nonzero-avg", `{"web.requests": 24.5}`},
		{"load?aggr=sum", `{"load": 4.0}`},
		{"load?aggr=avg", `{"load": 2.0}`},
		{"up?aggr=sum", `{"up": 1}`},
		{"up?aggr=max", `{"up": true}`},
		{"up?aggr=nonzero-avg", `{"up": 1.0}`},
		{"neg?aggr=min", `{"neg": -5}`},
		{"web.status?aggr=one", `{"web.status": "ok"}`},
		{"web.status?aggr=max", `{"web.status": "ok"}`},
		{"web.status?aggr=min", `{"web.status": "busy"}`},
		{"web.requests?aggr=sum&glob=*/*", `{"web.requests": 1}`},
		{"nothing?aggr=avg", `{}`},
		// Every label of the prefix is reduced.
		{"web.requests?aggr=sum&glob=a.mmstats", `{"web.requests": 42}`},
		{"z?aggr=sum", `{"zero": 0}`},
	}
	for _, tt := range tests {
		r := get(t, s, "/stats/"+tt.query)
		if r.code != 200 || r.body != tt.want+"\n" {
			t.Errorf("GET /stats/%s: %d %s, want %s", tt.query, r.code, r.body, tt.want)
		}
	}
	failing := []struct{ query, msg string }{
		{"web.status?aggr=avg", "not all numbers"},
		{"web.status?aggr=sum", "not all numbers"},
		{"web?aggr=sum", "web.status: the values are not all numbers"},
		{"zero?aggr=nonzero-min", "no non-zero values"},
		{"zero?aggr=nonzero-avg", "no non-zero values"},
		{"web.requests?aggr=median", `unknown aggregator \"median\" (use one of avg, max, min, nonzero-avg, nonzero-min, one, sum, policy or list)`},
		{"web.requests?aggr=SUM", "unknown aggregator"},
	}
	for _, tt := range failing {
		r := get(t, s, "/stats/"+tt.query)
		if r.code != http.StatusBadRequest || !strings.Contains(r.body, tt.msg) || !strings.HasPrefix(r.body, `{"error": `) {
			t.Errorf("GET /stats/%s: %d %s, want 400 with %q", tt.query, r.code, r.body, tt.msg)
		}
	}
}

func TestFiles(t *testing.T) {
	s := newTestServer(t, fixture(t))
	tests := []struct{ target, want string }{
		{"/files/", `["a.mmstats", "b.mmstats"]`},
		{"/files/*", `["a.mmstats", "b.mmstats"]`},
		{"/files/b*", `["b.mmstats"]`},
		{"/files/*/*", `["sub/c.mmstats"]`},
		{"/files/sub%2fc.mmstats", `["sub/c.mmstats"]`},
		{"/files/sub/c.mmstats", `["sub/c.mmstats"]`},
		{"/files/*.txt", `[]`},
		{"/files/nothing", `[]`},
	}
	for _, tt := range tests {
		r := get(t, s, tt.target)
		want := `{"files": ` + tt.want + "}\n"
		if r.code != 200 || r.body != want {
			t.Errorf("GET %s: %d %s, want %s", tt.target, r.code, r.body, want)
		}
	}
	r := get(t, s, "/files/[")
	if r.code != http.StatusBadRequest || !strings.Contains(r.body, "syntax error in pattern") {
		t.Errorf("bad pattern: %d %s", r.code, r.body)
	}
}

func TestRoutes(t *testing.T) {
	s := newTestServer(t, fixture(t))
	tests := []struct {
		method, target string
		code           int
		contentType    string
		contains       string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<a href="/stats/web.requests?exact=1">web.requests</a>`},
		{"GET", "/graph/", 200, "text/html; charset=utf-8", `<tr class="stat" data-label="web.requests" data-kind="" data-unit="" data-policy="sum">`},
		{"GET", "/static/graph.js", 200, "text/javascript; charset=utf-8", "/stats/"},
		{"GET", "/static/style.css", 200, "text/css; charset=utf-8", "canvas"},
		{"GET", "/metrics", 200, "text/plain; version=0.0.4; charset=utf-8", "mmstats_web_requests"},
		{"GET", "/static/", 404, "", ""},
		{"GET", "/static/nope.js", 404, "", ""},
		{"GET", "/static/../confine.go", 404, "", ""},
		{"GET", "/nope", 404, "", ""},
		{"GET", "/graph", 301, "", ""},
		{"GET", "/stats", 301, "", ""},
		{"GET", "/files", 301, "", ""},
		{"POST", "/stats/", 405, "", ""},
		{"DELETE", "/files/a.mmstats", 405, "", ""},
		{"HEAD", "/stats/", 200, "application/json", ""},
	}
	for _, tt := range tests {
		r := do(t, s, tt.method, tt.target)
		if r.code != tt.code {
			t.Errorf("%s %s: %d, want %d", tt.method, tt.target, r.code, tt.code)
			continue
		}
		if tt.contentType != "" && r.header.Get("Content-Type") != tt.contentType {
			t.Errorf("%s %s: Content-Type %q, want %q", tt.method, tt.target, r.header.Get("Content-Type"), tt.contentType)
		}
		if !strings.Contains(r.body, tt.contains) {
			t.Errorf("%s %s: body lacks %q:\n%s", tt.method, tt.target, tt.contains, r.body)
		}
	}
	if r := do(t, s, "POST", "/"); r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("405 without Allow: %v", r.header)
	}
	if r := get(t, s, "/graph"); r.header.Get("Location") != "/graph/" {
		t.Errorf("redirect to %q", r.header.Get("Location"))
	}
}

func TestGraphPage(t *testing.T) {
	s := newTestServer(t, fixture(t))
	body := get(t, s, "/graph/").body
	for _, want := range []string{
		// Numbers: label, number of files, how they combine, the
		// result (files without metadata sum, as they always did).
		`<td class="label"><a href="/stats/web.requests?exact=1">web.requests</a></td>
      <td class="num">2</td>
      <td class="how" data-how="sum">sum</td>
      <td class="num"><output data-value="49">49</output></td>`,
		`data-label="up"`, `<output data-value="4.0">4.0</output>`, `<output data-value="-5">-5</output>`,
		`<button type="button" class="plot" aria-pressed="false">Plot</button>`,
		// Strings: every file's value.
		`<dt data-kind="">web.status</dt>
    <dd><span class="value">ok</span><span class="file">a.mmstats</span></dd>
    <dd><span class="value">busy</span><span class="file">b.mmstats</span></dd>`,
		`<option value="policy" selected>each row's policy</option>`, `<option>sum</option>`, `<option>nonzero-avg</option>`,
		`<script src="/static/graph.js" defer></script>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("graph page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, `data-label="web.status"`) {
		t.Error("a string stat is in the numeric table")
	}
	// Everything the page loads is served by mmash itself.
	for _, ref := range []string{"http:", "https:", "//"} {
		for _, attr := range []string{`src="`, `href="`} {
			if strings.Contains(body, attr+ref) {
				t.Errorf("the page loads %s%s...", attr, ref)
			}
		}
	}
	if js := get(t, s, "/static/graph.js").body; strings.Contains(js, "http:") || strings.Contains(js, "https:") || !strings.Contains(js, `fetch(url`) {
		t.Error("graph.js talks to another server, or not to mmash")
	}
	if csp := get(t, s, "/graph/").header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	empty := newTestServer(t, t.TempDir())
	if body := get(t, empty, "/graph/").body; !strings.Contains(body, "No numeric stats found") || !strings.Contains(body, "No string stats found") {
		t.Errorf("empty graph page:\n%s", body)
	}
	if body := get(t, empty, "/").body; !strings.Contains(body, "No stats found") {
		t.Errorf("empty index:\n%s", body)
	}
}

func TestHostileLabels(t *testing.T) {
	dir := t.TempDir()
	label := `<script>alert("x")</script>/?#%&é`
	v1file.Write(t, dir+"/evil.mmstats",
		v1file.Unbuffered(label, "Q", v1file.U64(1)),
		v1file.Unbuffered("s", "16s", v1file.Str("<b>bold</b>", 16)))
	s := newTestServer(t, dir)
	for _, page := range []string{"/", "/graph/"} {
		body := get(t, s, page).body
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>bold") {
			t.Errorf("%s does not escape labels and values:\n%s", page, body)
		}
	}
	// The escaped link of the index finds the label again.
	r := get(t, s, "/stats/"+url.PathEscape(label)+"?exact=1&aggr=list")
	if r.code != 200 || !strings.Contains(r.body, `": [1]}`) {
		t.Errorf("escaped label: %d %s", r.code, r.body)
	}
	var got map[string][]int
	getJSON(t, s, "/stats/"+url.PathEscape(label)+"?exact=1&aggr=list", &got)
	if len(got[label]) != 1 {
		t.Errorf("label came back as %v", got)
	}
}
