package cli

import (
	"bytes"
	"strings"
)

// TestStreams returns streams for tests, as cli/cli's iostreams.Test
// does: nothing to read, and Out and Err recorded in the buffers it
// returns. They are not a terminal until SetTerminal.
func TestStreams() (s *Streams, out, errOut *bytes.Buffer) {
	out, errOut = new(bytes.Buffer), new(bytes.Buffer)
	s = &Streams{In: strings.NewReader(""), Out: out, Err: errOut, Width: func() int { return 0 }}
	return s, out, errOut
}

// SetTerminal makes s a fake terminal of width columns (0: unknown),
// in colour if color.
func (s *Streams) SetTerminal(width int, color bool) {
	s.IsTerminal, s.Color, s.Width = true, color, func() int { return width }
}
