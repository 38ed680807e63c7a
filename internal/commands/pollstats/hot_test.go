//go:build unix

package pollstats

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/aggregate"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// The hot loop (hot.go) gives the lines that the files read one by one
// give: two pollers over the same files, one never hot (and listing the
// directory every interval, trusting no stamp), polled at the
// same moments through quiet intervals (past hotUpdateEvery), a counter
// restarting, a file truncated under its mapping (a fault in the hot
// loop), a file added, one removed and one replaced by another.
func TestHotLoopSameLines(t *testing.T) {
	t.Run("mapped", func(t *testing.T) { hotLoopSameLines(t, false, -1) })
	// The files opened from the 10th interval on are cold (the raw file
	// written again, the file added), the others mapped: runs of cold
	// files between runs of mapped ones, whose records are the mapped
	// files' only (hotRun.at).
	t.Run("mixed", func(t *testing.T) {
		t.Cleanup(func() { coldForTest = false })
		hotLoopSameLines(t, false, 10)
	})
	// Chunks of a few files: runs and failures across chunks.
	for _, chunk := range []int{1, 3} {
		t.Run(fmt.Sprintf("mixed-chunks-of-%d", chunk), func(t *testing.T) {
			hotChunk = chunk
			t.Cleanup(func() { coldForTest, hotChunk = false, 1024 })
			hotLoopSameLines(t, false, 10)
		})
	}
	// Past the mapping budget: the cold files go through the hot loop too,
	// with descriptors kept, or each opened and closed every interval.
	t.Run("cold", func(t *testing.T) {
		coldForTest = true
		t.Cleanup(func() { coldForTest = false })
		hotLoopSameLines(t, true, -1)
	})
	t.Run("cold-no-descriptor", func(t *testing.T) {
		coldForTest = true
		fdLimit = func() int { return 0 }
		t.Cleanup(func() { coldForTest, fdLimit = false, fdBudget })
		hotLoopSameLines(t, true, -1)
	})
}

// hotLoopSameLines runs the test; the files opened from interval
// coldFrom on (-1: none) are cold.
func hotLoopSameLines(t *testing.T, pastMaps bool, coldFrom int) {
	dir := t.TempDir()
	var ws []*writer
	for i := range 6 {
		w := newWriter(t, dir, fmt.Sprintf("w%d.mmstats", i))
		w.OK.Add(uint64(10 * i))
		ws = append(ws, w)
	}
	raw := filepath.Join(dir, "raw.mmstats")
	// All 4 columns: a file that lacks one is updated every interval, and
	// no interval is hot.
	writeRaw := func(t *testing.T, path string, fields map[string]uint64) {
		fields["web.stats.load"], fields["web.stats.temp"] = 1, 2
		writeRaw(t, path, fields)
	}
	writeRaw(t, raw, map[string]uint64{status + ".2XX": 7, status + ".5XX": 1})
	var logs [2]strings.Builder
	start := func(k int) *poller {
		o := &Options{Streams: &cli.Streams{Out: io.Discard, Err: io.Discard}, Prefix: "web.stats",
			Fields: []string{"status.2XX", "status.5XX", "load", "temp"}, Args: []string{dir}, Delay: time.Second}
		src, err := newSources(cli.NewFileSet(o.Args))
		if err != nil {
			t.Fatal(err)
		}
		// The poller that is never hot lists the directory every interval:
		// the other trusts the directory's stamp (sources.scan).
		src.alwaysList = k == 1
		p, err := startPoller(o, src, &logger{w: &logs[k], level: levelWarn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.close)
		return p
	}
	hot, cold := start(0), start(1)
	cold.hot = hotOff
	noHeat := func() {
		if cold.hot == hotUnknown {
			cold.hot = hotOff
		}
	}
	now := time.Now().Add(2 * racyWindow) // past the directory's racy window
	heated, heatedDue, updated := 0, 0, false
	var layout *reader.Layout
	var extra mmstats.Counter
	colds := 0
	step := func(i int, change func()) {
		t.Helper()
		if i == coldFrom {
			coldForTest = true
		}
		change()
		now = now.Add(time.Second)
		hot.poll(now)
		noHeat()
		cold.poll(now)
		noHeat()
		if hot.hot == hotOn {
			if len(hot.recs.words) < len(hot.active) {
				colds++
			}
			heated++
			if hot.tick%hotUpdateEvery == 0 {
				heatedDue++
			}
		}
		switch tr := hot.files[ws[3].f.Path()]; {
		case i == 44:
			layout = tr.layout
		case pastMaps && i == 63: // each cold file looked at whole in 16 polls
			updated = tr.layout != layout && tr.layout != nil
		case !pastMaps && i == hotUpdateEvery-1: // the first poll due the hot loop's look
			updated = tr.f != nil && tr.f.Unchanged()
		}
		if !slices.Equal(hot.line, cold.line) {
			t.Errorf("interval %d: hot loop %v, files one by one %v", i, hot.line, cold.line)
		}
		checkBases(t, hot)
		checkBases(t, cold)
	}
	for i := range 2 * hotUpdateEvery {
		step(i, func() {
			for k, w := range ws {
				w.OK.Add(uint64(k + i))
				w.Err.Inc()
				w.Load.Set(float64(i) / 2)
				w.Temp.Set(float64(20 + i%3))
			}
			switch i {
			case 5: // a counter of a raw file going back, in a new file
				if err := os.Remove(raw); err != nil {
					t.Fatal(err)
				}
				writeRaw(t, raw, map[string]uint64{status + ".2XX": 3, status + ".5XX": 2})
			case 9: // truncated under the mappings: the hot loop faults
				if err := os.Truncate(raw, 0); err != nil {
					t.Fatal(err)
				}
			case 12:
				writeRaw(t, raw, map[string]uint64{status + ".2XX": 30, status + ".5XX": 2})
			case 45: // a field appended in place, before a poll due its update
				if err := ws[3].f.Add("extra", &extra); err != nil {
					t.Fatal(err)
				}
			case 20:
				ws = append(ws, newWriter(t, dir, "w9.mmstats"))
			case 25:
				ws[1].remove(t)
				ws = slices.Delete(ws, 1, 2)
			case 30: // another file at a path
				if err := os.Rename(ws[0].f.Path(), ws[2].f.Path()); err != nil {
					t.Fatal(err)
				}
				ws = slices.Delete(ws, 2, 3)
			}
		})
	}
	if heated < 20 {
		t.Errorf("the hot loop ran %d intervals of %d", heated, 2*hotUpdateEvery)
	}
	if !updated {
		t.Error("the poll due its update did not update the file a field was appended to")
	}
	if heatedDue == 0 {
		t.Error("no poll due its update was hot")
	}
	if coldFrom >= 0 && colds == 0 {
		t.Error("no hot interval had cold files and mapped ones")
	}
	if !strings.Contains(logs[0].String(), raw) {
		t.Errorf("the truncated file is not reported:\n%s", logs[0].String())
	}
}

// The operations of the hot loop add up what share and Number.Add make
// of the words, for each kind of word, counter or gauge, and byte order:
// values going up, down, negative, NaN and infinite; and leave as the
// baselines what the files read one by one leave (baseOf each value),
// the other columns' untouched.
func TestHotOpsAddWhatShareAdds(t *testing.T) {
	ints := []int64{0, 5, 3, -7, -2, math.MaxInt64, math.MinInt64, 9}
	floats := []float64{0, 1.5, 1.5, -2, math.NaN(), 3, math.Inf(1), math.Inf(1), math.Inf(-1), 0.25}
	for _, code := range []string{"Q", "q", "d", "<Q", ">Q", "!q", ">d", "=d", "@q", "d1"} {
		if code == "d1" { // no change at all: a float sum of 0, not the integer 0
			code, floats = "d", []float64{1, 1, 1}
		}
		sig, err := reader.ParseSignature([]byte(code))
		if err != nil {
			t.Fatal(err)
		}
		var words []uint64
		for _, v := range ints {
			words = append(words, uint64(v))
		}
		if sig.Code == 'd' {
			words = words[:0]
			for _, v := range floats {
				words = append(words, math.Float64bits(v))
			}
		}
		for _, counter := range []bool{true, false} {
			for _, absolute := range []bool{false, true} {
				w := &wordRead{at: []int{1}, sigs: []reader.Signature{sig}, delta: []bool{counter}}
				ops := hotOps(w, absolute)
				if len(ops) != 1 {
					t.Fatalf("%s: %d ops", code, len(ops))
				}
				// Two words a file, the column's second: their words now
				// words[k+1]; and two baselines a file, the column's first:
				// the value of words[k], then of words[k+1].
				var cur, prev []uint64
				var kinds []reader.ValueKind
				var want, got aggregate.Number
				var after []base
				for k := 0; k+1 < len(words); k++ {
					b := baseOf(sig.DecodeWord(words[k]))
					cur, prev, kinds = append(cur, 0, words[k+1]), append(prev, b.bits, 7), append(kinds, b.kind, reader.Bool)
					want.Add(share(sig.DecodeWord(words[k]), sig.DecodeWord(words[k+1]), counter && !absolute))
					after = append(after, baseOf(sig.DecodeWord(words[k+1])), base{reader.Bool, 7})
				}
				hotSum(ops[0], &got, cur, prev, kinds, 2)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s counter %v absolute %v: %v, want %v", code, counter, absolute, got, want)
				}
				for k, b := range after {
					if got := (base{kinds[k], prev[k]}); got != b {
						t.Errorf("%s counter %v absolute %v: baseline %d %v, want %v", code, counter, absolute, k, got, b)
					}
				}
			}
		}
	}
}
