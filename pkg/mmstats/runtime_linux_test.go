package mmstats

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// procDirect reads the process stats the way a person would, apart from
// the refresher's own descriptors: getrusage for CPU time, VmRSS and
// Threads of /proc/self/status, the entries of /proc/self/fd less the
// listing's own descriptor and the three the runtime stats hold.
func procDirect(t *testing.T, rt *runtimeStats) map[string]float64 {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{
		procCPUUser:   float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6,
		procCPUSystem: float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6,
	}
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for sc := bufio.NewScanner(bytes.NewReader(status)); sc.Scan(); {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseUint(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			out[procRSS] = float64(n * 1024)
		case "Threads":
			out[procThreads] = float64(n)
		default:
			continue
		}
		if err != nil {
			t.Fatalf("/proc/self/status: %s: %v", k, err)
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out[procFDs] = float64(len(fds) - 1 - int(rt.proc.held))
	return out
}

// TestProcFDsByCount: on kernels that do not give /proc/self/fd a size,
// the descriptors are counted with getdents, to the same number.
func TestProcFDsByCount(t *testing.T) {
	var bySize, byCount procReader
	if bySize.open()&procFD == 0 {
		t.Skip("no /proc/self/fd")
	}
	defer bySize.close()
	if bySize.countFDs {
		t.Log("this kernel gives /proc/self/fd no size: both count")
	}
	fdsBySize = false
	byCount.open()
	fdsBySize = true
	defer byCount.close()
	if !byCount.countFDs {
		t.Fatal("fdsBySize = false did not make the reader count")
	}
	var a, b procValues
	bySize.read(&a)
	byCount.read(&b)
	// Each reader holds three descriptors and leaves out its own: the
	// other's count includes them.
	if a.fds != b.fds || a.fds == 0 {
		t.Errorf("descriptors: %d by size, %d by count", a.fds, b.fds)
	}
	// Many more descriptors than one getdents buffer holds.
	var fds []int
	for range 1000 {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
	}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	bySize.read(&a)
	byCount.read(&b)
	if a.fds != b.fds || b.fds < 1000 {
		t.Errorf("with 1000 more descriptors: %d by size, %d by count", a.fds, b.fds)
	}
}

// TestRuntimeReleases: Close closes what the process stats are read
// from, and a Refresh after Close neither fails nor reads them.
func TestRuntimeReleases(t *testing.T) {
	f, err := New(nil, Options{Dir: t.TempDir(), Runtime: true})
	if err != nil {
		t.Fatal(err)
	}
	rt := runtimeOf(t, f)
	f.Remove()
	if rt.proc.statm >= 0 || rt.proc.fdDir >= 0 || rt.proc.taskDir >= 0 {
		t.Errorf("descriptors still open after Close: %+v", rt.proc)
	}
	f.Refresh()
}

// threadCPU returns the CPU time of the calling thread (user and system).
func threadCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_THREAD, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
