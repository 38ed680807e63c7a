package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Streams are a command's standard streams and what is known about the
// terminal. Tests build them by hand to fake a terminal.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// IsTerminal is true when Out is a terminal: tables, headers and
	// colour are for people; pipes get plain lines.
	IsTerminal bool
	// Color is true when colour may be used: a terminal, NO_COLOR unset
	// and TERM not "dumb".
	Color bool
	// Width returns the terminal's width in columns, or 0 if unknown.
	Width func() int
}

// System returns the process's standard streams.
func System() *Streams {
	s := &Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Width: func() int { return 0 }}
	fd := int(os.Stdout.Fd())
	s.IsTerminal = term.IsTerminal(fd)
	if s.IsTerminal {
		s.Width = func() int {
			w, _, err := term.GetSize(fd)
			if err != nil {
				return 0
			}
			return w
		}
	}
	s.Color = s.IsTerminal && ColorAllowed(os.Getenv)
	return s
}

// ColorAllowed applies the environment's colour conventions: NO_COLOR
// (https://no-color.org) set to anything non-empty, or TERM=dumb, turns
// colour off.
func ColorAllowed(getenv func(string) string) bool {
	return getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}
