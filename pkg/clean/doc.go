// Package clean removes the mmstats files that dead processes left behind,
// and never anything else. It is the library behind the cleanstats tool.
//
// # Which files are stale
//
// A file names its writer with default fields (any label prefix allowed;
// when a label occurs twice the last one counts, as in Python mmstats):
//
//	label ends in   type   meaning
//	sys.pid         I      the writer's process ID (required)
//	sys.uid         Q      the writer's real user ID (optional)
//	sys.created     d      when the file was created, UNIX seconds (optional)
//	sys.flock       ?      true: the writer holds a shared flock(2) on the
//	                       file while it lives (the Go writer; optional)
//
// The rules, in order:
//
//  1. A file with the sys.flock marker is decided by its lock alone: the
//     Cleaner tries to take an exclusive lock without blocking. If that
//     would block, the writer lives, whatever its PID says; if the lock is
//     taken, the writer is gone. This holds across PID reuse and PID
//     namespaces, where sys.pid means nothing to this process.
//  2. Otherwise (files of the Python writer) the PID decides. kill(pid, 0)
//     failing with ESRCH means the process is gone. Success or EPERM means
//     a process with that ID exists (EPERM: owned by someone else), but it
//     may be another process that reused the ID: it is one when its real
//     uid (/proc/PID/status) differs from sys.uid, or when it started
//     (/proc/stat btime + /proc/PID/stat starttime) later than sys.created
//     plus [DefaultStartSlack]. A missing sys.uid or sys.created skips that
//     check. A PID that cannot be read in /proc but still exists is alive.
//
// Python mmstats 0.8.0 also removed every file whose PID was alive but
// owned by another user; this package does not.
//
// # What is never removed
//
// Symlinks (never followed: neither the link nor its target is touched),
// anything but a regular file (directories, FIFOs, devices, sockets), files
// that are not valid v1 mmstats files, files without sys.pid, files whose
// sys.pid cannot be a process ID (0, negative, beyond pid_t: kill(0, sig)
// would signal the process group, kill(-1, sig) every process), and a file
// that was replaced between the check and the removal.
//
// Files are opened relative to a descriptor of their directory with
// O_NOFOLLOW|O_NONBLOCK, so a FIFO cannot hang a run, and checked with
// fstat to be regular files before anything reads them. A file that its
// directory's listing (MatchEntries) says is not a regular file is not
// opened at all; a path whose type is not listed is checked with lstat
// first.
//
// # Removing without a window
//
// Unlinking a name after checking it leaves a window: a live file renamed
// over the name in between would be unlinked. So a Cleaner never unlinks
// a name another file may take. Holding an exclusive flock on the stale
// file's descriptor (no writer can lock it: it cannot come back to life),
// it renames the name to a private one in the same directory,
// ".NAME.cleanstats-XXXXXXXXXXXXXXXX" (renameat2 with RENAME_NOREPLACE,
// through the directory's descriptor), checks that what moved is the file
// it checked (device and inode), and unlinks the private name. Anything
// else that moved goes back under NAME without replacing anything; if
// another file has taken NAME meanwhile, it stays under the private name
// and the result says so (NameTaken). Files of the PID rules are locked
// the same way, so that two Cleaners never work on one file.
//
// The private names are recognised (Kind Aside, and Matches lists them
// with their NAME): a Cleaner killed between its moves, or a NAME taken
// again, leaves nothing hidden for long. The next run removes a stale
// file found aside and puts anything else back under its NAME; it leaves
// alone a file that another Cleaner holds an exclusive lock on.
//
// # Folding
//
// A stale file that names a totals file (the Go writer's files whose
// name template has {PID}: sys.totals, with a sys.id) is folded into it
// before it is removed: its counters and histograms are added to the
// totals file's (see internal/fold for the file and the protocol, which
// is safe against concurrent folders and against any of them being
// killed). The result says into what (Result.FoldedInto), or that the
// file was folded before a folder died (AlreadyFolded). A file that
// cannot be folded (the totals lock stays taken for 10 s; the totals
// name holds another kind of file; the totals file cannot be written) is
// kept: Decision Failed, Reason FoldFailed. A dry run folds nothing and
// reports where each file would fold. The file is moved to its private
// name to be unlinked as above; that name is recorded in the totals file
// with its own, so that a folded file is known as folded wherever a
// Cleaner killed between its moves leaves it. A file found under a
// private name that is folded already is unlinked there. Consecutive
// folds into one totals file keep its lock (200 ms at most).
//
// A totals file (a sys.folded field, no sys.pid) is Kind Totals: it is
// never judged nor removed (Skipped, Reason TotalsFile).
//
// # Temporary files
//
// A writer creates its file under a temporary name and takes a shared
// flock on it at once: ".mmstats.XXXXXXXXXXXXXXXX.tmp" (16 lowercase hex
// digits), or ".NAME.tmpXXXXXXXXXXXX" (12) for writers before it. A
// writer killed while creating leaves it behind. Such a file (Kind
// Temporary) is removed, with the same protocol, when its lock is free
// and its modification time is TemporaryMinAge (60 s) old: where opening
// and locking are two calls, the lock is free for a moment after the
// creation, and a writer never sets the time back. Its content is not
// read: it may be half written.
//
// # Cost
//
// One pass, no processes spawned, and the process table (/proc) is read
// once per PID per run. Two goroutines open and read the files ahead
// of the run, and try the locks of those with the sys.flock marker. A
// listed file of the Go writer costs 6 system calls when its writer
// lives (openat, fstat, two preads of its layout and the fields the
// rules read, flock, close) and 10 when it is removed (the first five,
// fstatat of its name, so that a file replaced since the open is never
// moved, renameat2 to the private name, fstatat of it, unlinkat, and
// the last close, which frees the file as rm's unlink does, made on another
// goroutine). On Linux (amd64, arm64) a file costs the heap nothing but
// its path, and when it is removed its private name: the directory is
// listed with getdents(2), names reach the system calls from the stack,
// a file is read into the buffer and reader.File of the one before and
// checked against the layout that one had, and CleanEntriesTransient
// reports every file through one Result. Thousands of files take well
// under a second.
//
// # Other systems
//
// A Cleaner works on every Unix: flock(2), the *at calls and O_NOFOLLOW
// are everywhere. What Linux alone has degrades so:
//
//   - The uid and start time of a live PID (rule 2) come from /proc on
//     Linux and from sysctl kern.proc.pid on macOS. Elsewhere (FreeBSD)
//     they are not checked: a PID that exists keeps its file, and the
//     result's error says "uid and start time not checked". Files with
//     the sys.flock marker are decided by their lock, everywhere.
//   - Renaming without replacing is renameat2 (RENAME_NOREPLACE) on
//     Linux and renameatx_np (RENAME_EXCL) on macOS; elsewhere, link(2)
//     then unlink(2), which never replace either.
//
// On Windows the package builds, and every path fails with an error
// wrapping [errors.ErrUnsupported]: nothing is removed.
package clean
