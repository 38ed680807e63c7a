//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mmstats/mmstats/internal/testutil"
)

// chromiumBinary returns the path of Chromium, or fails the test with how
// to install it.
func chromiumBinary(t *testing.T) string {
	t.Helper()
	return testutil.Tool(t, "chromium", "chromium", "chromium-browser")
}

// artifactDir returns where tests leave files for people to look at:
// $MMSTATS_ARTIFACTS, or test-artifacts/ at the module root.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MMSTATS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(testutil.Root(t), "test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// plotState is what the page shows of one plot.
type plotState struct {
	Samples int     `json:"samples"`
	Latest  float64 `json:"latest"`
	Output  string  `json:"output"`
}

// readPlot evaluates plotState of the plot of label in the page.
const readPlot = `(function (label) {
  const box = document.querySelector('figure.plot[data-label="' + label + '"]');
  const row = document.querySelector('tr.stat[data-label="' + label + '"]');
  if (!box) return {samples: 0, latest: 0, output: ""};
  return {samples: Number(box.dataset.samples), latest: Number(box.dataset.latest || 0),
          output: row.querySelector("output").textContent};
})(%q)`

// pageState is what the page says of the rows the test checks.
type pageState struct {
	Created        string `json:"created"`     // the text of sys.created's value
	CreatedHow     string `json:"createdHow"`  // how it is combined
	CreatedFrom    string `json:"createdFrom"` // the file it names
	P99How         string `json:"p99How"`
	PIDRow         bool   `json:"pidRow"` // sys.pid has a row of the numeric table
	PIDs           int    `json:"pids"`   // its values file by file
	CounterCaption string `json:"counterCaption"`
}

const readPage = `(function () {
  const row = (l) => document.querySelector('tr.stat[data-label="' + l + '"]');
  const created = row("web.stats.sys.created");
  const how = created.querySelector("td.how").textContent;
  let pids = 0;
  for (const dt of document.querySelectorAll("dl.strings dt")) {
    if (dt.textContent !== "web.stats.sys.pid") continue;
    for (let dd = dt.nextElementSibling; dd && dd.tagName === "DD"; dd = dd.nextElementSibling) pids++;
  }
  return {
    created: created.querySelector("output").textContent,
    createdHow: how, createdFrom: how.replace(/^latest, in /, ""),
    p99How: row("web.stats.timers.request.p99").querySelector("td.how").textContent,
    pidRow: !!row("web.stats.sys.pid"), pids: pids,
    counterCaption: document.querySelector('figure.plot[data-label="web.stats.status.2XX"] figcaption').textContent,
  };
})()`

// countInk evaluates the number of pixels of the value's line colour
// (#2563eb) on the canvas of the plot of label.
const countInk = `(function (label) {
  const c = document.querySelector('figure.plot[data-label="' + label + '"] canvas');
  const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (Math.abs(px[i] - 0x25) < 40 && Math.abs(px[i+1] - 0x63) < 40 && Math.abs(px[i+2] - 0xeb) < 40 && px[i+3] > 200) n++;
  }
  return n;
})(%q)`

func TestGraphPageInBrowser(t *testing.T) {
	chromium := chromiumBinary(t)
	dir := testutil.StartDemo(t, t.TempDir(), loadedDemo...).Dir
	base := testutil.StartMmash(t, nil, dir).URL + "/"

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-breakpad", true), // no crash reports in ~/.config
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Env("TMPDIR="+shortTempDir(t)), // its org.chromium.Chromium.* files go with the test
		// A tab that no one looks at gets its timers throttled to about
		// one a minute; the page's polling is what this test watches.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	// Cleanups run last first: the browser is gone before its profile
	// directory is removed.
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)

	// Any script error, warning or CSP violation fails the test.
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	var mu sync.Mutex
	var problems []string
	go func() {
		for m, err := range chromedp.Console(browser) {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleException, chromedp.ConsoleWarning:
				mu.Lock()
				problems = append(problems, m.String()+" ("+m.URL+")")
				mu.Unlock()
			}
		}
	}()

	const counter, timer = "web.stats.status.2XX", "web.stats.timers.request"
	button := func(label, kind string) chromedp.CSS {
		return chromedp.CSS(`tr.stat[data-label="` + label + `"] button.` + kind)
	}
	err := chromedp.Do(browser,
		chromedp.Navigate(base+"graph/"),
		chromedp.WaitVisible(button(counter, "plot")),
		// Sample every 250 ms.
		chromedp.SetValue(chromedp.ID("period"), "250"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById("period").dispatchEvent(new Event("change"))`)(ctx, tg)
			return err
		}),
		chromedp.Click(button(counter, "plot")),
		chromedp.Click(button(timer, "plot")),
		chromedp.Click(button(timer+".p99", "plot")),
		// A flat line: a timestamp, the latest of the workers'.
		chromedp.Click(button("web.stats.sys.created", "plot")),
		chromedp.Click(button("web.stats.status.5XX", "watch")),
	)
	if err != nil {
		t.Fatalf("driving the page: %v", err)
	}

	var first, last plotState
	deadline := time.Now().Add(45 * time.Second)
	for {
		last, err = chromedp.Run(browser, chromedp.Evaluate[plotState](fmt.Sprintf(readPlot, counter)))
		if err != nil {
			t.Fatal(err)
		}
		if first.Samples == 0 && last.Samples > 0 {
			first = last
		}
		// A counter plots as its rate per second: above 0 under load.
		if last.Samples >= 12 && last.Latest > 0 {
			break
		}
		if time.Now().After(deadline) {
			mu.Lock()
			t.Fatalf("the plot of %s does not move: first %+v, last %+v; page messages: %q", counter, first, last, problems)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("plot of %s: %+v, then %+v", counter, first, last)
	for _, label := range []string{timer, timer + ".p99", "web.stats.sys.created"} {
		st, err := chromedp.Run(browser, chromedp.Evaluate[plotState](fmt.Sprintf(readPlot, label)))
		if err != nil || st.Samples < 10 {
			t.Errorf("the plot of %s stopped: %+v (%v)", label, st, err)
		}
	}
	// The row shows the counter's total, the plot its rate.
	if n, err := strconv.ParseUint(last.Output, 10, 64); err != nil || float64(n) < last.Latest {
		t.Errorf("the row of %s shows %q, its rate is %v", counter, last.Output, last.Latest)
	}
	page, err := chromedp.Run(browser, chromedp.Evaluate[pageState](readPage))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page: %+v", page)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`).MatchString(page.Created) {
		t.Errorf("sys.created shows %q, not a date", page.Created)
	}
	if page.CreatedHow != "latest, in "+filepath.Base(page.CreatedFrom) || page.P99How != "p99 of the merged buckets" {
		t.Errorf("how the rows combine: %q, %q", page.CreatedHow, page.P99How)
	}
	if page.PIDRow || page.PIDs != 2 {
		t.Errorf("sys.pid: a combined row %v, %d values file by file (want 2)", page.PIDRow, page.PIDs)
	}
	if !strings.HasPrefix(page.CounterCaption, "rate per second of "+counter) {
		t.Errorf("the counter's plot is captioned %q", page.CounterCaption)
	}
	ink, err := chromedp.Run(browser, chromedp.Evaluate[int](fmt.Sprintf(countInk, counter)))
	if err != nil || ink < 100 {
		t.Errorf("%d pixels of the value's line on the canvas (%v)", ink, err)
	}
	watched, err := chromedp.Run(browser, chromedp.Text(chromedp.CSS(`tr.stat[data-label="web.stats.status.5XX"] output`)))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := strconv.Atoi(watched); err != nil || n <= 0 {
		t.Errorf("the updated 5XX value reads %q", watched)
	}

	png, err := chromedp.Run(browser, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifactDir(t), "mmash-graph.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("page: %s", p)
	}
}

// shortTempDir is a temporary directory removed with the test, directly
// in /tmp: Chromium puts a socket in its TMPDIR, and a socket path may not
// be longer than 107 bytes, which t.TempDir() under scripts/test's
// private TMPDIR is.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "mmstatstest-cr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
