package cleanstats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/pkg/clean"
)

// printer writes a line per result and the summary.
type printer struct {
	o              *Options
	out            *bufio.Writer
	removed, alive int
	failed         bool
}

// jsonLine is one line of --json output.
type jsonLine struct {
	Path     string `json:"path"`
	Kind     string `json:"kind"`
	PID      *int64 `json:"pid"`
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`
	MovedTo  string `json:"moved_to,omitempty"`
	// FoldedInto is the totals file a stale file was (or would be)
	// folded into.
	FoldedInto string `json:"folded_into,omitempty"`
}

func (p *printer) result(r *clean.Result) error {
	kept := false // a file the user did not name, kept: printed with -v
	switch r.Decision {
	case clean.Removed, clean.WouldRemove:
		p.removed++
	case clean.Alive, clean.Restored, clean.WouldRestore:
		if r.Kind == clean.Temporary {
			kept = r.Decision == clean.Alive
		} else if r.Reason == clean.LockHeld || r.Reason == clean.ProcessAlive {
			p.alive++
		}
	case clean.Skipped:
		kept = r.Kind == clean.Temporary || r.Reason == clean.TotalsFile
	case clean.Failed:
		p.failed = true
		// Keep the order of the lines when both streams are one terminal.
		if err := p.out.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(p.o.Streams.Err, "cleanstats: %s: %s\n", cli.Quote(r.Path), cli.Quote(r.Err.Error()))
	}
	switch {
	case p.o.JSON:
		line := jsonLine{Path: r.Path, Kind: r.Kind.String(), Decision: r.Decision.String(), Reason: r.Reason.String(),
			Message: message(r, false), MovedTo: r.MovedTo, FoldedInto: r.FoldedInto}
		if r.Writer.HasPID {
			line.PID = &r.Writer.PID
		}
		enc := json.NewEncoder(p.out) // one line each, with its newline
		enc.SetEscapeHTML(false)
		return enc.Encode(line)
	case p.o.Quiet, r.Decision == clean.Failed, (r.Decision == clean.Alive || kept) && !p.o.Verbose:
		return nil
	}
	_, err := p.out.WriteString(message(r, true) + "\n")
	return err
}

func (p *printer) summary() error {
	if p.o.JSON || p.o.Quiet {
		return nil
	}
	verb := "Removed"
	if p.o.DryRun {
		verb = "Would remove"
	}
	_, err := fmt.Fprintf(p.out, "%s %d  -  %d alive\n", verb, p.removed, p.alive)
	return err
}

// message describes a result in one line. For text, it names the file,
// and file names and error texts go through cli.Quote: a name or a label
// holding an escape sequence or a newline cannot reach the terminal raw.
// Without text it is the JSON "message", which JSON escapes.
func message(r *clean.Result, text bool) string {
	q := func(s string) string { return s }
	if text {
		q = cli.Quote
	}
	why := describe(r, q)
	if !text {
		if r.Reason == clean.Invalid {
			return why + ": " + r.Err.Error()
		}
		return why
	}
	path := q(r.Path)
	if r.Reason == clean.Invalid && (r.Decision == clean.Restored || r.Decision == clean.WouldRestore) {
		why += " (" + q(r.Err.Error()) + ")"
	}
	folded := ""
	switch {
	case r.FoldedInto == "":
	case r.AlreadyFolded:
		folded = " (already folded into " + q(r.FoldedInto) + ")"
	case r.Decision == clean.WouldRemove:
		folded = " (would fold it into " + q(r.FoldedInto) + ")"
	default:
		folded = " (folded into " + q(r.FoldedInto) + ")"
	}
	switch r.Decision {
	case clean.Removed:
		return why + ". Deleting " + path + folded
	case clean.WouldRemove:
		return why + ". Would delete " + path + folded
	case clean.Alive:
		return why + ". Keeping " + path
	case clean.Restored:
		return why + ". Restoring " + q(r.MovedTo) + " from " + path
	case clean.WouldRestore:
		return why + ". Would restore " + q(r.MovedTo) + " from " + path
	}
	switch r.Reason {
	case clean.YoungTemporary:
		return why + ". Keeping " + path
	case clean.Invalid:
		return why + ": " + path + " (" + q(r.Err.Error()) + ")"
	}
	return why + ": " + path
}

// describe says why a file was judged as it was; q quotes error texts.
func describe(r *clean.Result, q func(string) string) string {
	pid := r.Writer.PID
	if r.Kind == clean.Temporary && r.Reason == clean.LockHeld {
		return "Temporary file in use (its creator holds its lock)"
	}
	switch r.Reason {
	case clean.NoProcess:
		return fmt.Sprintf("PID %d not found", pid)
	case clean.OtherUID:
		return fmt.Sprintf("PID %d is now a process of uid %d, not the file's uid %d (PID reused)", pid, r.Process.UID, r.Writer.UID)
	case clean.StartedAfter:
		later := time.Duration((r.Process.Start - r.Writer.Created) * float64(time.Second)).Round(time.Second)
		return fmt.Sprintf("PID %d is now a process started %v after the file was created (PID reused)", pid, later)
	case clean.LockFree:
		return fmt.Sprintf("Writer (PID %d) no longer holds its lock", pid)
	case clean.LockHeld:
		return fmt.Sprintf("Writer (PID %d) holds its lock", pid)
	case clean.ProcessAlive:
		if r.Err != nil {
			return fmt.Sprintf("PID %d is alive (%s)", pid, q(r.Err.Error()))
		}
		return fmt.Sprintf("PID %d is alive", pid)
	case clean.AbandonedTemporary:
		return fmt.Sprintf("Abandoned temporary file (nobody holds its lock; unchanged for %v or more)", clean.TemporaryMinAge)
	case clean.YoungTemporary:
		return fmt.Sprintf("Temporary file being created (not locked yet, changed less than %v ago)", clean.TemporaryMinAge)
	case clean.Busy:
		return "File is locked by another process (another cleanstats?), kept"
	case clean.TotalsFile:
		return "Totals of the files folded into it, kept"
	case clean.Symlink:
		return "Symlink, not followed"
	case clean.Invalid:
		return "Invalid file"
	case clean.NoPID:
		return "File has no sys.pid entry"
	case clean.Replaced:
		return "File was replaced before it could be deleted, kept"
	case clean.Vanished:
		return "No such file"
	}
	// Not a regular file, and failures: the error says it all.
	if r.Err == nil {
		return r.Reason.String()
	}
	return upperFirst(q(r.Err.Error()))
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
