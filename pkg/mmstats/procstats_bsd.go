//go:build darwin || freebsd

package mmstats

// The process's stats on macOS and FreeBSD: the CPU time, from
// getrusage. Their resident size, descriptors and threads would need
// sysctl or libproc calls per refresh; they are not published.

import "golang.org/x/sys/unix"

type procReader struct{}

func (p *procReader) open() procSet { return procCPU }

func (p *procReader) read(v *procValues) procSet {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	v.user = float64(ru.Utime.Sec) + float64(ru.Utime.Usec)/1e6
	v.system = float64(ru.Stime.Sec) + float64(ru.Stime.Usec)/1e6
	return procCPU
}

func (p *procReader) close() {}
