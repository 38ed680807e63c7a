// Package mmstats publishes an application's stats in a memory-mapped file
// that separate tools (slurpstats, pollstats, cleanstats, mmash) read
// without disturbing the application: "/proc for your application".
//
// Declare the stats as a struct of field types and create the file once:
//
//	type WebStats struct {
//		Status2XX mmstats.Counter `mmstats:"status.2XX"`
//		LastHit   mmstats.Float64 `mmstats:"timers.last_hit"`
//	}
//	var stats WebStats
//	f, err := mmstats.New(&stats, mmstats.Options{LabelPrefix: "web.stats."})
//	if err != nil {
//		log.Printf("stats not published: %v", err) // the fields still count, in memory
//	} else {
//		defer f.Remove()
//	}
//	stats.Status2XX.Inc()
//
// or add fields by name at run time with File.Add. The file is format v1,
// byte-compatible with Python mmstats 0.8.0: package reader documents it.
//
// # Cost
//
// After New, updating a counter, gauge or bool is one atomic instruction on
// the mapped page: no lock, no system call, no allocation, safe from any
// number of goroutines. Values of up to 8 bytes sit at aligned addresses
// (the writer pads type signatures with spaces, which readers ignore), so
// they are written and read atomically and never tear. Strings are double
// buffered with a sequence word so that readers never see a torn string;
// averages and timers keep their state in memory and publish a mean after
// each sample without making recorders wait for each other.
//
// # Many processes
//
// The workers of a prefork server each publish a file, and the tools show
// them together. Every field says how its values combine (its
// Aggregation: counters add up, timestamps take the latest, a PID is not
// aggregated, a high-water mark can take the max), and a Histogram or
// Timer publishes its bucket counts, so that the percentiles the tools
// show over many files are those of all the values together, within the
// same 1% as one file's (package aggregate applies the rules).
//
// Workers come and go (a server recycles them, they crash), and their
// counts must not vanish from the totals with their files: with a file
// name template that has {PID} (the default), File.Remove folds the
// file into the totals file of its directory before deleting it
// ("mmstats-demo-totals.mmstats" for "mmstats-demo-4242-4242.mmstats"):
// its counters and histogram buckets are added to the totals file's, its
// gauges are not. cleanstats folds the files of workers that died
// without Remove. The tools count the totals file and leave out the
// files it holds, so that a total never drops nor counts a file twice;
// folding is safe against several processes folding at once and against
// any of them being killed.
//
// # The Go runtime's stats
//
// With Options.Runtime, the file also carries the Go runtime's own stats
// and the process's, so that any Go program using this package can be
// watched as a JVM is with jstat, without a port or an agent:
//
//   - every metric of runtime/metrics, under "go." and its path without
//     the unit: /sched/goroutines:goroutines is go.sched.goroutines,
//     /gc/cycles/total:gc-cycles go.gc.cycles.total. Metrics that differ
//     only by unit take it as a last element (go.gc.heap.allocs.bytes,
//     go.gc.heap.allocs.objects). Cumulative metrics are counters, the
//     others gauges, with their unit (bytes, seconds, percent;
//     cpu-seconds are seconds) in the metadata. Gauges add up across
//     processes, but settings (go.gc.gogc, go.gc.gomemlimit,
//     go.sched.gomaxprocs, go.gc.stack.starting-size) take the mean and
//     go.gc.limiter.last-enabled is not aggregated.
//   - the runtime's histograms (go.gc.pauses, go.sched.latencies,
//     go.sched.pauses.*, go.gc.heap.allocs-by-size...) as a Histogram's
//     stats without time windows (.count, .sum, .min, .max, .p50 to
//     .p999, and buckets that the tools merge across processes). The
//     runtime's buckets are coarser (4 per power of two for durations):
//     each one's count goes to the bucket of its geometric midpoint, so
//     percentiles are as exact as the runtime's buckets allow (±12% for
//     durations above 0.5 µs, coarser below; sizes to their size class);
//     .sum counts each value at the middle of its runtime
//     bucket, the main stat is .sum/.count, .min and .max are the bounds
//     of the outermost runtime buckets that hold values. Durations are
//     resolved from 64 ns to 256 s (longer ones report the max).
//   - the process's CPU time (proc.cpu.user, proc.cpu.system: counters,
//     seconds), and on Linux its resident size (proc.rss, bytes), open
//     descriptors (proc.fds, not counting the three the package holds on
//     /proc/self to read these) and threads (proc.threads, the kernel's
//     count). macOS and FreeBSD give the CPU time only (getrusage).
//
// The stats are the process's, whichever file carries them: a process
// with several files should turn the option on in one of them, or the
// tools, which add up the gauges of every file, count its heap twice.
// The labels take the file's LabelPrefix as every label does; a model
// field with one of them is a duplicate label (ErrDuplicateLabel). The
// list of metrics is runtime/metrics.All() of the running Go, taken when
// the file is created: a metric a newer Go adds appears on its own, one
// it removes is not there, and a metric whose label another would take
// too, whose name is not a plain /path:unit, or whose kind is unknown
// (a new kind, a histogram that is not cumulative) is left out; with
// go1.26 all 113 metrics (8 histograms) are published, 177 labels with
// the histograms' stats. They are refreshed with the derived stats every
// RefreshInterval: one metrics.Read of every metric, which does not stop
// the world as runtime.ReadMemStats does, and four system calls, a few
// microseconds without allocation (BenchmarkRuntimeRefresh). The option
// adds about 121 KiB to the file, 111 KiB of it the histograms' buckets
// (TestRuntimeFileBytes).
//
// # Files
//
// A file is built where no reader looks (an unnamed O_TMPFILE file where
// the system has them, else a temporary name ".mmstats.<16 hex>.tmp",
// locked from the start so that cleanstats can tell when its creator is
// gone) with its disk blocks reserved, and given its final name only when
// complete, never over an existing file and never through a symlink; its
// mode is 0644 unless Options.Mode says otherwise. A full file system is
// an error (syscall.ENOSPC) from New or File.Add, never a fault in the
// application. When its pages are full, a file grows by being replaced
// with a larger copy (see File.Add), so that a file a reader has mapped
// never changes size under it.
// Every file carries the default fields sys.pid, sys.tid, sys.uid, sys.gid,
// org.golang.version and sys.created (as Python's MmStats model does),
// sys.id, a random number that names the file when it is folded, with a
// template that has {PID} sys.totals, the name of its totals file, and
// sys.flock: the writer holds a shared flock(2) on its file while it
// lives, so cleanstats can tell a live file from a stale one whatever PID
// namespace the writer runs in. In a PID namespace other than the
// initial one (a container), {PID} is the PID, a dot and the namespace's
// inode number ("1.4026532201"), so that two containers sharing a
// directory, each with its PID 1, never collide.
//
// Truncating a live file from outside (only its owner or root can) makes
// the writer fault on its next update, as with any shared mapping.
//
// # Other systems
//
// The writer runs on Linux, macOS and FreeBSD. Where Linux alone has what
// it uses, the other two do this instead:
//
//   - No O_TMPFILE: a file is built under its temporary name, locked in
//     the open call itself (O_SHLOCK). A writer killed meanwhile leaves
//     it; cleanstats removes it once its lock is free and it is a minute
//     old.
//   - No fallocate: the blocks are reserved by writing zeros. (On
//     copy-on-write file systems, ZFS, Btrfs or APFS, on any system, no
//     reservation promises room for later writes.)
//   - No renameat2: macOS has renamex_np (RENAME_EXCL, RENAME_SWAP);
//     FreeBSD names a new file with link(2) and unlink(2), which never
//     replace anything either, and a growing file has no atomic exchange:
//     its path is checked, then the copy renamed over it, so a file
//     renamed there in between (only its owner or root can) is lost.
//   - sys.tid, and {TID} in file names, is the thread ID on Linux
//     (gettid) and FreeBSD (thr_self), and the process ID on macOS.
//
// On any other system (Windows among them) the package builds, and New
// returns an error wrapping [errors.ErrUnsupported]; the fields still
// count, in memory.
package mmstats
