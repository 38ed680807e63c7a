package cleanstats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

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
	PID      *int64 `json:"pid"`
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
	Message  string `json:"message"`
}

func (p *printer) result(r *clean.Result) error {
	switch r.Decision {
	case clean.Removed, clean.WouldRemove:
		p.removed++
	case clean.Alive:
		p.alive++
	case clean.Failed:
		p.failed = true
		// Keep the order of the lines when both streams are one terminal.
		if err := p.out.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(p.o.Streams.Err, "cleanstats: %s: %v\n", r.Path, r.Err)
	}
	switch {
	case p.o.JSON:
		line := jsonLine{Path: r.Path, Decision: r.Decision.String(), Reason: r.Reason.String(), Message: message(r, false)}
		if r.Writer.HasPID {
			line.PID = &r.Writer.PID
		}
		enc := json.NewEncoder(p.out) // one line each, with its newline
		enc.SetEscapeHTML(false)
		return enc.Encode(line)
	case p.o.Quiet, r.Decision == clean.Failed, r.Decision == clean.Alive && !p.o.Verbose:
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

// message describes a result in one line. With path, it is the line of
// the text output, naming the file; without, the JSON "message".
func message(r *clean.Result, path bool) string {
	why := describe(r)
	if !path {
		if r.Reason == clean.Invalid {
			return why + ": " + r.Err.Error()
		}
		return why
	}
	switch r.Decision {
	case clean.Removed:
		return why + ". Deleting " + r.Path
	case clean.WouldRemove:
		return why + ". Would delete " + r.Path
	case clean.Alive:
		return why + ". Keeping " + r.Path
	}
	if r.Reason == clean.Invalid {
		return why + ": " + r.Path + " (" + r.Err.Error() + ")"
	}
	return why + ": " + r.Path
}

// describe says why a file was judged as it was.
func describe(r *clean.Result) string {
	pid := r.Writer.PID
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
			return fmt.Sprintf("PID %d is alive (%v)", pid, r.Err)
		}
		return fmt.Sprintf("PID %d is alive", pid)
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
	return upperFirst(r.Err.Error())
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
