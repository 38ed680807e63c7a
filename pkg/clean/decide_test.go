package clean

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

// fakeProbe answers from scripts and records the calls made to it.
type fakeProbe struct {
	signal []error     // successive results of Signal; the last repeats
	procs  []procEntry // successive results of Process; the last repeats
	lock   []any       // TryLock result: bool or error
	calls  []string
}

func next[T any](s []T, n int) T {
	var zero T
	if len(s) == 0 {
		return zero
	}
	return s[min(n, len(s)-1)]
}

func (f *fakeProbe) count(prefix string) int {
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeProbe) Signal(pid int) error {
	if pid <= 0 || pid > maxPID {
		panic(fmt.Sprintf("Signal(%d): a process group reached kill", pid))
	}
	err := next(f.signal, f.count("signal"))
	f.calls = append(f.calls, fmt.Sprintf("signal %d", pid))
	return err
}

func (f *fakeProbe) Process(pid int) (Process, error) {
	e := next(f.procs, f.count("process"))
	f.calls = append(f.calls, fmt.Sprintf("process %d", pid))
	return e.p, e.err
}

func (f *fakeProbe) TryLock(fd int) (bool, error) {
	f.calls = append(f.calls, "lock")
	switch v := next(f.lock, 0).(type) {
	case bool:
		return v, nil
	case error:
		return false, v
	}
	panic("TryLock not scripted")
}

func TestDecide(t *testing.T) {
	const created = 1_700_000_000.0
	pid := func(p int64) Writer { return Writer{PID: p, HasPID: true} }
	full := Writer{PID: 4242, HasPID: true, UID: 1000, HasUID: true, Created: created, HasCreated: true}
	withFlock := func(w Writer) Writer { w.Flock = true; return w }
	noUID := full
	noUID.HasUID = false
	noCreated := full
	noCreated.HasCreated = false
	ok := procEntry{p: Process{UID: 1000, Start: created - 5}}
	errNoProc := fmt.Errorf("open /proc/4242/status: %w", fs.ErrNotExist)

	tests := []struct {
		name   string
		w      Writer
		probe  fakeProbe
		want   Decision
		reason Reason
		err    error  // the result's error wraps it
		calls  string // the probe calls made, joined by ";"
	}{
		{name: "no sys.pid", w: Writer{HasUID: true}, want: Skipped, reason: NoPID, err: ErrNoPID},
		{name: "pid 0 is never signalled", w: pid(0), want: Skipped, reason: Invalid, err: ErrBadPID},
		{name: "pid -1 is never signalled", w: pid(-1), want: Skipped, reason: Invalid, err: ErrBadPID},
		{name: "pid beyond pid_t", w: pid(1 << 31), want: Skipped, reason: Invalid, err: ErrBadPID},
		{name: "largest pid_t is probed", w: pid(1<<31 - 1), probe: fakeProbe{signal: []error{syscall.ESRCH}},
			want: Removed, reason: NoProcess, calls: "signal 2147483647"},
		{name: "bad pid with marker", w: withFlock(pid(0)), want: Skipped, reason: Invalid, err: ErrBadPID},

		{name: "lock held: alive whatever the pid says", w: withFlock(full),
			probe: fakeProbe{lock: []any{false}, signal: []error{syscall.ESRCH}},
			want:  Alive, reason: LockHeld, calls: "lock"},
		{name: "lock free: stale whatever the pid says", w: withFlock(full),
			probe: fakeProbe{lock: []any{true}, procs: []procEntry{ok}},
			want:  Removed, reason: LockFree, calls: "lock"},
		{name: "pid 1 in a namespace, lock free", w: withFlock(pid(1)), probe: fakeProbe{lock: []any{true}},
			want: Removed, reason: LockFree, calls: "lock"},
		{name: "flock fails", w: withFlock(full), probe: fakeProbe{lock: []any{syscall.ENOLCK}},
			want: Failed, reason: ProbeFailed, err: syscall.ENOLCK, calls: "lock"},

		{name: "ESRCH", w: full, probe: fakeProbe{signal: []error{syscall.ESRCH}},
			want: Removed, reason: NoProcess, calls: "signal 4242"},
		{name: "EPERM, same owner, started before: alive", w: full,
			probe: fakeProbe{signal: []error{syscall.EPERM}, procs: []procEntry{ok}},
			want:  Alive, reason: ProcessAlive, calls: "signal 4242;process 4242"},
		{name: "EPERM alone is not stale (0.8.0 removed it)", w: pid(4242),
			probe: fakeProbe{signal: []error{syscall.EPERM}},
			want:  Alive, reason: ProcessAlive, calls: "signal 4242"},
		{name: "alive, same owner, started before", w: full,
			probe: fakeProbe{signal: []error{nil}, procs: []procEntry{ok}},
			want:  Alive, reason: ProcessAlive, calls: "signal 4242;process 4242"},
		{name: "alive, other owner: reused", w: full,
			probe: fakeProbe{signal: []error{nil}, procs: []procEntry{{p: Process{UID: 0, Start: created - 5}}}},
			want:  Removed, reason: OtherUID, calls: "signal 4242;process 4242"},
		{name: "EPERM, other owner: reused", w: full,
			probe: fakeProbe{signal: []error{syscall.EPERM}, procs: []procEntry{{p: Process{UID: 33, Start: created - 5}}}},
			want:  Removed, reason: OtherUID, calls: "signal 4242;process 4242"},
		{name: "started after created: reused", w: full,
			probe: fakeProbe{signal: []error{nil}, procs: []procEntry{{p: Process{UID: 1000, Start: created + 60}}}},
			want:  Removed, reason: StartedAfter, calls: "signal 4242;process 4242"},
		{name: "started within the slack: alive", w: full,
			probe: fakeProbe{signal: []error{nil}, procs: []procEntry{{p: Process{UID: 1000, Start: created + 1.9}}}},
			want:  Alive, reason: ProcessAlive, calls: "signal 4242;process 4242"},
		{name: "no sys.uid: start time only", w: noUID,
			probe: fakeProbe{signal: []error{nil}, procs: []procEntry{{p: Process{UID: 0, Start: created + 60}}}},
			want:  Removed, reason: StartedAfter, calls: "signal 4242;process 4242"},
		{name: "no sys.uid, started before: alive", w: noUID,
			probe: fakeProbe{signal: []error{nil}, procs: []procEntry{{p: Process{UID: 0, Start: created}}}},
			want:  Alive, reason: ProcessAlive, calls: "signal 4242;process 4242"},
		{name: "no sys.created: uid only", w: noCreated,
			probe: fakeProbe{signal: []error{nil}, procs: []procEntry{{p: Process{UID: 1000, Start: created + 1e6}}}},
			want:  Alive, reason: ProcessAlive, calls: "signal 4242;process 4242"},
		{name: "no sys.uid nor sys.created: no /proc lookup", w: pid(4242),
			probe: fakeProbe{signal: []error{nil}},
			want:  Alive, reason: ProcessAlive, calls: "signal 4242"},
		{name: "exited between kill and /proc", w: full,
			probe: fakeProbe{signal: []error{nil, syscall.ESRCH}, procs: []procEntry{{err: errNoProc}}},
			want:  Removed, reason: NoProcess, calls: "signal 4242;process 4242;signal 4242"},
		{name: "hidden in /proc but alive: kept", w: full,
			probe: fakeProbe{signal: []error{syscall.EPERM}, procs: []procEntry{{err: errNoProc}}},
			want:  Alive, reason: ProcessAlive, err: fs.ErrNotExist, calls: "signal 4242;process 4242;signal 4242"},
		{name: "kill fails otherwise", w: full, probe: fakeProbe{signal: []error{syscall.EINVAL}},
			want: Failed, reason: ProbeFailed, err: syscall.EINVAL, calls: "signal 4242"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.probe
			j := newJudge(&p, 2)
			v := j.decide(&tt.w, func() (bool, error) { return p.TryLock(-1) })
			if v.decision != tt.want || v.reason != tt.reason {
				t.Errorf("got %v (%v), want %v (%v); err %v", v.decision, v.reason, tt.want, tt.reason, v.err)
			}
			if tt.err != nil && !errors.Is(v.err, tt.err) {
				t.Errorf("err = %v, want one wrapping %v", v.err, tt.err)
			}
			if tt.err == nil && v.err != nil {
				t.Errorf("unexpected err %v", v.err)
			}
			if got := strings.Join(p.calls, ";"); got != tt.calls {
				t.Errorf("probe calls %q, want %q", got, tt.calls)
			}
			if tt.reason.Stale() != (v.decision == Removed) {
				t.Errorf("Reason(%v).Stale() disagrees with the decision", tt.reason)
			}
		})
	}
}

// TestDecideCache checks that /proc is read once per PID per run, and
// read again before a removal that rests on a cached lookup.
func TestDecideCache(t *testing.T) {
	w := Writer{PID: 7, HasPID: true, UID: 1000, HasUID: true, Created: 100, HasCreated: true}
	t.Run("one lookup per pid", func(t *testing.T) {
		p := &fakeProbe{signal: []error{nil}, procs: []procEntry{{p: Process{UID: 1000, Start: 50}}}}
		j := newJudge(p, 2)
		for range 100 {
			if v := j.decide(&w, nil); v.decision != Alive {
				t.Fatalf("got %v", v.decision)
			}
		}
		if n := p.count("process"); n != 1 {
			t.Errorf("%d /proc lookups, want 1", n)
		}
		if n := p.count("signal"); n != 100 {
			t.Errorf("%d kills, want 100 (not cached: cheap, and a death must be seen)", n)
		}
	})
	t.Run("a cached lookup is refreshed before removing", func(t *testing.T) {
		other := w
		other.UID = 33
		// The first file's owner ran as 1000; then PID 7 was reused by a
		// process of uid 33 that wrote the second file.
		p := &fakeProbe{signal: []error{nil}, procs: []procEntry{
			{p: Process{UID: 1000, Start: 50}},
			{p: Process{UID: 33, Start: 60}},
		}}
		j := newJudge(p, 2)
		if v := j.decide(&w, nil); v.decision != Alive {
			t.Fatalf("first file: got %v", v.decision)
		}
		if v := j.decide(&other, nil); v.decision != Alive {
			t.Fatalf("second file: got %v (%v), want alive after a fresh lookup", v.decision, v.reason)
		}
		if n := p.count("process"); n != 2 {
			t.Errorf("%d /proc lookups, want 2", n)
		}
	})
	t.Run("a refreshed lookup can still remove", func(t *testing.T) {
		p := &fakeProbe{signal: []error{nil}, procs: []procEntry{{p: Process{UID: 1000, Start: 50}}}}
		j := newJudge(p, 2)
		j.decide(&w, nil)
		other := w
		other.UID = 33
		if v := j.decide(&other, nil); v.decision != Removed || v.reason != OtherUID {
			t.Fatalf("got %v (%v), want removed (uid-differs)", v.decision, v.reason)
		}
	})
}

func TestNames(t *testing.T) {
	for d := Alive; d <= Failed; d++ {
		if strings.HasPrefix(d.String(), "Decision(") {
			t.Errorf("decision %d has no name", d)
		}
	}
	for r := LockHeld; r <= RemoveFailed; r++ {
		if strings.HasPrefix(r.String(), "Reason(") {
			t.Errorf("reason %d has no name", r)
		}
	}
	if Decision(0).String() != "Decision(0)" || Reason(99).String() != "Reason(99)" {
		t.Error("unknown values are not shown as such")
	}
}
