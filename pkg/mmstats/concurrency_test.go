//go:build linux || darwin || freebsd

package mmstats_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

func TestMain(m *testing.M) {
	switch os.Getenv("MMSTATS_TEST_ROLE") {
	case "torn-reader":
		os.Exit(tornReader(os.Getenv("MMSTATS_TEST_FILE")))
	case "group-reader":
		os.Exit(groupReader(os.Getenv("MMSTATS_TEST_FILE")))
	case "create-loop":
		os.Exit(createLoop(os.Getenv("MMSTATS_TEST_DIR"), os.Getenv("MMSTATS_TEST_MODE")))
	}
	os.Exit(m.Run())
}

// groupReader is the reader process of TestGroupsAreReadConsistently: the
// writer publishes groups whose values are all equal, so a snapshot with
// two different values is torn. It also counts how often reading the same
// fields one by one, without the group protocol, sees a mix.
func groupReader(path string) int {
	f, err := reader.Open(path)
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	var reads, violations, mixedSingly, busy int
	for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); {
		stats, err := f.Stats()
		if errors.Is(err, reader.ErrBusy) {
			// This test's writer publishes in a tight loop, far faster
			// than any refresher: a reader slowed down by a loaded
			// machine may find no quiet moment within its wait, and says
			// so. That is a refusal, not a torn read.
			busy++
			continue
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "read:", err)
			violations++
			continue
		}
		reads++
		var first float64
		seen := false
		for _, s := range stats {
			if s.Label != "g" && !strings.HasPrefix(s.Label, "g.") {
				continue
			}
			if !seen {
				first, seen = s.Value.Float(), true
			} else if s.Value.Float() != first {
				violations++
				fmt.Fprintf(os.Stderr, "torn group: %s = %v, g = %v\n", s.Label, s.Value.Float(), first)
				break
			}
		}
		var firstSingle float64
		for i, fl := range f.Fields() {
			if fl.Label != "g" && !strings.HasPrefix(fl.Label, "g.") {
				continue
			}
			v, _ := f.Value(i)
			if fl.Label == "g" {
				firstSingle = v.Float()
			} else if v.Float() != firstSingle {
				mixedSingly++
				break
			}
		}
	}
	fmt.Printf("reads=%d violations=%d mixed-singly=%d busy=%d\n", reads, violations, mixedSingly, busy)
	return 0
}

func TestConcurrentUpdatesAreExact(t *testing.T) {
	var s struct {
		C  mmstats.Counter       `mmstats:"c"`
		A  mmstats.Average       `mmstats:"a"`
		M  mmstats.MovingAverage `mmstats:"m,window=10"`
		B  mmstats.Bool          `mmstats:"b"`
		By mmstats.Int8          `mmstats:"by"`
		D  mmstats.Float64       `mmstats:"d"`
	}
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	const goroutines, each = 32, 2000
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				s.C.Inc()
				s.A.Observe(float64(g % 2 * 2)) // 0 or 2: mean 1
				s.M.Observe(7)
				s.B.Set(i%2 == 0)
				s.By.Set(int8(g))
				s.D.Add(0.5)
			}
		}()
	}
	wg.Wait()
	got := readAll(t, f.Path())
	if got["c"].Value.Uint() != goroutines*each || got["a"].Value.Float() != 1 || got["m"].Value.Float() != 7 ||
		got["d"].Value.Float() != goroutines*each*0.5 {
		t.Errorf("c=%v a=%v m=%v d=%v", got["c"].Value, got["a"].Value, got["m"].Value, got["d"].Value)
	}
	if by := got["by"].Value.Int(); by < 0 || by >= goroutines {
		t.Errorf("byte holds %d, a value no goroutine wrote", by)
	}
	// The neighbouring header bytes survived the sub-word updates.
	for _, label := range []string{"b", "by"} {
		if typ := got[label].Type; typ != map[string]string{"b": "?", "by": "b"}[label] {
			t.Errorf("%s type became %q", label, typ)
		}
	}
}

// tornValues are the strings the stress writers write. They differ in
// length and letter, so a copy mixing two of them is never one of them.
var tornValues = func() map[string]bool {
	m := map[string]bool{}
	for k := 0; k < 8; k++ {
		m[strings.Repeat(string(rune('a'+k)), 5+k*7)] = true
	}
	return m
}()

var tornDoubles = map[float64]bool{1.5: true, -2.25: true, 1e300: true, 3.141592653589793: true}

// TestNoTornReadsAcrossProcesses runs writer goroutines here and a reader
// in a separate process (this test binary again) that checks every value it
// reads: a string is always one of the written strings, a double one of the
// written doubles, and the counter never goes down.
func TestNoTornReadsAcrossProcesses(t *testing.T) {
	var s struct {
		S mmstats.String  `mmstats:"s,size=64"`
		D mmstats.Float64 `mmstats:"d"`
		C mmstats.Counter `mmstats:"c"`
	}
	s.S.Set("aaaaa")
	s.D.Set(1.5)
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	strs := make([]string, 0, len(tornValues))
	for v := range tornValues {
		strs = append(strs, v)
	}
	dbls := []float64{1.5, -2.25, 1e300, 3.141592653589793}

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MMSTATS_TEST_ROLE=torn-reader", "MMSTATS_TEST_FILE="+f.Path())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s.S.Set(strs[i%len(strs)])
				s.D.Set(dbls[i%len(dbls)])
				s.C.Inc()
			}
		}()
	}
	sc := bufio.NewScanner(out)
	var result string
	for sc.Scan() {
		result = sc.Text()
	}
	close(stop)
	wg.Wait()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("reader process: %v (%s)", err, result)
	}
	var reads, violations int
	if _, err := fmt.Sscanf(result, "reads=%d violations=%d", &reads, &violations); err != nil {
		t.Fatalf("reader printed %q", result)
	}
	t.Logf("reader process: %d reads, %d violations", reads, violations)
	if violations != 0 || reads < 1000 {
		t.Errorf("%d violations in %d reads", violations, reads)
	}
}

// tornReader is the reader process of TestNoTornReadsAcrossProcesses.
func tornReader(path string) int {
	duration := 700 * time.Millisecond
	if d, err := strconv.Atoi(os.Getenv("MMSTATS_TORN_MS")); err == nil {
		duration = time.Duration(d) * time.Millisecond
	}
	f, err := reader.Open(path)
	if err != nil {
		fmt.Println("open:", err)
		return 1
	}
	idx := map[string]int{}
	for i, fl := range f.Fields() {
		idx[fl.Label] = i
	}
	var reads, violations int
	var last uint64
	for end := time.Now().Add(duration); time.Now().Before(end); {
		for i := 0; i < 100; i++ {
			sv, err1 := f.Value(idx["s"])
			dv, err2 := f.Value(idx["d"])
			cv, err3 := f.Value(idx["c"])
			reads += 3
			if err1 != nil || err2 != nil || err3 != nil {
				violations++
				fmt.Fprintln(os.Stderr, "read error:", err1, err2, err3)
				continue
			}
			if !tornValues[sv.Str()] {
				violations++
				fmt.Fprintf(os.Stderr, "torn string %q\n", sv.Str())
			}
			if !tornDoubles[dv.Float()] {
				violations++
				fmt.Fprintf(os.Stderr, "torn double %v\n", dv.Float())
			}
			if cv.Uint() < last {
				violations++
				fmt.Fprintf(os.Stderr, "counter went down: %d after %d\n", cv.Uint(), last)
			}
			last = cv.Uint()
		}
	}
	fmt.Printf("reads=%d violations=%d\n", reads, violations)
	return 0
}
