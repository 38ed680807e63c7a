package clean

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/mmstats/mmstats/pkg/reader"
)

// DefaultStartSlack is how much later than sys.created a process may seem
// to have started and still be the file's writer: /proc/stat's boot time
// has a resolution of one second.
const DefaultStartSlack = 2 * time.Second

// Cleaner removes stale mmstats files. The zero value removes them, with
// the system's probes.
type Cleaner struct {
	// DryRun decides but removes nothing: stale files are reported as
	// WouldRemove.
	DryRun bool
	// Probe answers the questions about processes and locks; nil means
	// SystemProbe().
	Probe Probe
	// StartSlack is how much later than sys.created a process may start
	// and still be the writer; 0 means DefaultStartSlack.
	StartSlack time.Duration

	// beforeRemove, if set, runs between the decision and the removal:
	// tests use it to replace a file at the worst moment.
	beforeRemove func(path string)
	// unlink, if set, replaces unlinkAt: tests use it to fail a removal
	// where permissions cannot (as root).
	unlink func(dir int, name string) error
}

// Clean handles each path in turn and calls report with its result. It
// stops early only when report returns an error, which it returns. Failures
// to handle a file are results (Decision Failed), not errors.
func (c *Cleaner) Clean(paths []string, report func(*Result) error) error {
	r := c.start()
	defer r.close()
	for _, p := range paths {
		res := r.clean(p)
		if err := report(&res); err != nil {
			return err
		}
	}
	return nil
}

// CleanFile handles one path.
func (c *Cleaner) CleanFile(path string) Result {
	r := c.start()
	defer r.close()
	return r.clean(path)
}

// run is one Clean call: the /proc cache, the open directory and the
// read buffer it reuses.
type run struct {
	c       *Cleaner
	probe   Probe
	judge   *judge
	dirPath string
	dirFD   int
	dirErr  error
	buf     []byte
}

func (c *Cleaner) start() *run {
	p := c.Probe
	if p == nil {
		p = SystemProbe()
	}
	slack := c.StartSlack
	if slack <= 0 {
		slack = DefaultStartSlack
	}
	return &run{c: c, probe: p, judge: newJudge(p, slack.Seconds()), dirFD: -1}
}

func (r *run) close() {
	if r.dirFD >= 0 {
		closeFD(r.dirFD)
		r.dirFD = -1
	}
}

// dir returns a descriptor of directory path, keeping the last one open:
// the paths of a run come sorted, a directory's files together.
func (r *run) dir(path string) (int, error) {
	if path == r.dirPath && (r.dirFD >= 0 || r.dirErr != nil) {
		return r.dirFD, r.dirErr
	}
	r.close()
	r.dirPath = path
	r.dirFD, r.dirErr = openDir(path)
	if r.dirErr != nil {
		r.dirFD = -1
	}
	return r.dirFD, r.dirErr
}

// clean handles one path.
func (r *run) clean(path string) Result {
	res := Result{Path: path}
	skip := func(reason Reason, err error) Result {
		res.Decision, res.Reason, res.Err = Skipped, reason, err
		return res
	}
	fail := func(reason Reason, err error) Result {
		if errors.Is(err, unix.ENOENT) {
			return skip(Vanished, ErrVanished)
		}
		res.Decision, res.Reason, res.Err = Failed, reason, err
		return res
	}

	clean := filepath.Clean(path)
	dirPath, name := filepath.Dir(clean), filepath.Base(clean)
	dfd, err := r.dir(dirPath)
	if err != nil {
		return fail(OpenFailed, fmt.Errorf("open directory: %w", err))
	}
	var st unix.Stat_t
	if err := lstatAt(dfd, name, &st); err != nil {
		return fail(OpenFailed, fmt.Errorf("stat: %w", err))
	}
	switch {
	case isSymlink(&st):
		return skip(Symlink, reader.ErrSymlink)
	case !isRegular(&st):
		return skip(NotRegular, fmt.Errorf("%w (%s)", reader.ErrNotRegular, typeName(&st)))
	}
	fd, err := openAt(dfd, name)
	if errors.Is(err, unix.ELOOP) {
		return skip(Symlink, reader.ErrSymlink) // swapped in since the stat
	} else if err != nil {
		return fail(OpenFailed, fmt.Errorf("open: %w", err))
	}
	defer closeFD(fd) // and with it the lock, if taken
	if err := fstat(fd, &st); err != nil {
		return fail(ReadFailed, fmt.Errorf("fstat: %w", err))
	}
	if !isRegular(&st) {
		return skip(NotRegular, fmt.Errorf("%w (%s)", reader.ErrNotRegular, typeName(&st)))
	}
	checked := idOf(&st)

	w, ioErr, err := r.load(fd, st.Size)
	res.Writer = w
	if ioErr != nil {
		return fail(ReadFailed, fmt.Errorf("read: %w", ioErr))
	}
	if err != nil {
		return skip(Invalid, err)
	}

	v := r.judge.decide(&w, func() (bool, error) { return r.probe.TryLock(fd) })
	res.Decision, res.Reason, res.Err, res.Process = v.decision, v.reason, v.err, v.proc
	if v.decision != Removed {
		return res
	}
	if r.c.DryRun {
		res.Decision = WouldRemove
		return res
	}
	if r.c.beforeRemove != nil {
		r.c.beforeRemove(path)
	}
	// The name must still be the file that was checked.
	if err := lstatAt(dfd, name, &st); err != nil {
		return fail(RemoveFailed, fmt.Errorf("stat before removing: %w", err))
	}
	if idOf(&st) != checked {
		return skip(Replaced, ErrReplaced)
	}
	unlink := unlinkAt
	if r.c.unlink != nil {
		unlink = r.c.unlink
	}
	if err := unlink(dfd, name); err != nil {
		return fail(RemoveFailed, fmt.Errorf("cannot remove: %w", err))
	}
	return res
}

// load reads the file behind fd (size bytes, as fstat said) and parses
// what it says about its writer. It reads firstRead bytes, and more only
// while the fields run to the end of what it read. ioErr is a read error;
// err means the file is not a valid mmstats file.
func (r *run) load(fd int, size int64) (w Writer, ioErr, err error) {
	n := min(size, firstRead)
	for {
		if int64(cap(r.buf)) < n {
			r.buf = make([]byte, n)
		}
		data, ioErr := preadFull(fd, r.buf[:n])
		if ioErr != nil {
			return Writer{}, ioErr, nil
		}
		layout, err := reader.Parse(data)
		if int64(len(data)) < n || n >= size || !inconclusive(data, layout, err) {
			if err != nil {
				return Writer{}, nil, err
			}
			w, err := writerOf(data, layout)
			return w, nil, err
		}
		if n >= maxRead {
			return Writer{}, nil, ErrTooLarge
		}
		n = min(size, 2*n, maxRead)
	}
}
