package mmstats

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mmstats/mmstats/internal/convention"
)

// DefaultFilename is the file name template used when neither
// Options.Filename nor MMSTATS_FILES is set.
const DefaultFilename = "{CMD}-{PID}-{TID}.mmstats"

// DefaultMaxSize is the default Options.MaxSize: 16 MiB of address space,
// room for thousands of fields. Only the pages in use take memory or disk.
const DefaultMaxSize = 16 << 20

// Options configure a stats file. The zero value gives the defaults.
type Options struct {
	// Dir is the directory of the file. It may contain {CMD}, {PID} and
	// {TID}. Default: $MMSTATS_PATH, or the system's temporary directory.
	Dir string
	// Filename is the file name template, with {CMD} (the program's base
	// name), {PID} and {TID} (the creating thread's ID). Default:
	// $MMSTATS_FILES, or DefaultFilename. Expanded, it must be one path
	// element: no "/", not "." or ".." (ErrBadName).
	//
	// {PID} is the process ID, followed in a PID namespace other than
	// the initial one (a container) by a dot and the namespace's inode
	// number ("1.4026532201"): processes of two containers sharing a
	// directory, both PID 1, never collide. A template with {PID} makes
	// a file per process, which is folded into the totals file of its
	// directory when it goes (see File.Remove): the template with {PID}
	// replaced by "totals" and {TID} dropped with one separator next to
	// it, "{CMD}-totals.mmstats" for the default.
	Filename string
	// LabelPrefix is prepended to every label, the default fields'
	// included: "web.stats." makes "sys.pid" read "web.stats.sys.pid".
	LabelPrefix string
	// Mode is the file's permission bits, set exactly (the umask does not
	// apply); other bits are an error. Default: 0644.
	Mode os.FileMode
	// MaxSize is the largest the file may grow as fields are added, in
	// bytes (ErrFileFull beyond). Default: DefaultMaxSize.
	MaxSize int
	// RefreshInterval is how often the derived stats of histograms,
	// timers and time windows (and the runtime's stats) are published,
	// at the wall-clock multiples of it (every whole second by default),
	// so that every process refreshes at the same instants. Default:
	// DefaultRefreshInterval.
	RefreshInterval time.Duration
	// Runtime publishes the Go runtime's own stats in the file, as a JVM
	// publishes its hsperfdata: every metric of runtime/metrics under
	// "go." (go.gc.cycles.total, go.sched.goroutines, the GC pause and
	// scheduler latency histograms...) and the process's CPU time,
	// resident size, open descriptors and threads under "proc.",
	// refreshed every RefreshInterval (a few microseconds, no allocation,
	// no stop of the world). It adds about 121 KiB to the file, most of
	// it the histograms' buckets, so it is off by default; turn it on in
	// one file per process. See "The Go runtime's stats" in the package
	// documentation.
	Runtime bool
}

// DefaultRefreshInterval is the default Options.RefreshInterval.
const DefaultRefreshInterval = time.Second

// resolved is Options with every default filled in and templates expanded.
type resolved struct {
	Options
	dir      string // expanded directory
	fullPath string // expanded path of the file
	totals   string // the name of its totals file (sys.totals), or ""
	pid, tid int
	pidName  string // what {PID} expands to
}

func (o Options) resolve() (resolved, error) {
	r := resolved{Options: o, pid: os.Getpid(), tid: gettid()}
	r.pidName = pidName(r.pid)
	if r.Dir == "" {
		r.Dir = convention.Dir()
	}
	if r.Filename == "" {
		r.Filename = os.Getenv("MMSTATS_FILES")
		if r.Filename == "" {
			r.Filename = DefaultFilename
		}
	}
	if r.Mode == 0 {
		r.Mode = 0o644
	}
	if r.MaxSize == 0 {
		r.MaxSize = DefaultMaxSize
	}
	if r.RefreshInterval == 0 {
		r.RefreshInterval = DefaultRefreshInterval
	}
	if r.MaxSize < 0 || r.RefreshInterval < 0 {
		return r, fmt.Errorf("mmstats: Options.MaxSize %d, RefreshInterval %v: negative (0 means the default)", o.MaxSize, o.RefreshInterval)
	}
	if r.Mode&^os.ModePerm != 0 {
		return r, fmt.Errorf("mmstats: Options.Mode %v: only permission bits (0777) can be set", r.Mode)
	}
	if !validLabel(r.LabelPrefix) {
		return r, fmt.Errorf("%w: label prefix %q", ErrInvalidLabel, r.LabelPrefix)
	}
	r.dir = r.expand(r.Dir)
	name := r.expand(r.Filename)
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return r, fmt.Errorf("%w: %q (from the template %q)", ErrBadName, name, r.Filename)
	}
	r.fullPath = filepath.Join(r.dir, name)
	if t, ok := convention.TotalsTemplate(r.Filename); ok {
		if t = r.expand(t); convention.ValidTotalsName(t) && t != name {
			r.totals = t
		}
	}
	return r, nil
}

// expand substitutes {CMD}, {PID} and {TID} in a template.
func (r *resolved) expand(template string) string {
	return strings.NewReplacer(
		"{CMD}", filepath.Base(os.Args[0]),
		"{PID}", r.pidName,
		"{TID}", strconv.Itoa(r.tid),
	).Replace(template)
}

// initPIDNamespace is the inode of the initial PID namespace on Linux
// (PROC_PID_INIT_INO): a process in it has the only PID space there is.
const initPIDNamespace = 4026531836

// pidName is what {PID} expands to: the PID, and in a PID namespace other
// than the initial one (a container), the PID, a dot and the namespace's
// inode ("1.4026532201"), so that the processes of two containers that
// share a directory, both PID 1, never take the same name.
func pidName(pid int) string {
	s := strconv.Itoa(pid)
	if ns, ok := pidNamespace(); ok && ns != initPIDNamespace {
		s += "." + strconv.FormatUint(ns, 10)
	}
	return s
}
