package mmstats

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// TestGroupsAreReadConsistently publishes a histogram's group over and
// over, every value of a snapshot equal, while a reader process reads the
// file: it must never see a snapshot mixing two publications.
func TestGroupsAreReadConsistently(t *testing.T) {
	var h Histogram
	f, err := New(nil, Options{Dir: t.TempDir(), RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if err := f.Add("g", &h); err != nil {
		t.Fatal(err)
	}
	g := h.pub.g
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MMSTATS_TEST_ROLE=group-reader", "MMSTATS_TEST_FILE="+f.Path())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		var last string
		for sc.Scan() {
			last = sc.Text()
		}
		done <- last
	}()
	values := make([]uint64, len(g.words))
	var result string
	for k := 1; result == ""; k++ {
		for i := range values {
			values[i] = f64(float64(k))
		}
		values[1] = uint64(k) // the .count stat is an integer
		f.rmu.Lock()          // the refresher's lock: one writer per group
		g.publish(values)
		f.rmu.Unlock()
		select {
		case result = <-done:
		default:
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("reader: %v", err)
	}
	var reads, violations, mixed, busy int
	if _, err := fmt.Sscanf(result, "reads=%d violations=%d mixed-singly=%d busy=%d", &reads, &violations, &mixed, &busy); err != nil {
		t.Fatalf("reader printed %q", result)
	}
	t.Logf("%d group reads, %d torn, %d refused as busy; reading the fields one by one saw %d mixes", reads, violations, busy, mixed)
	if violations != 0 || reads < 100 {
		t.Errorf("%d torn snapshots in %d reads", violations, reads)
	}
}
