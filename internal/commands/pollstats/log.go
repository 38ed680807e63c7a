package pollstats

import (
	"fmt"
	"io"

	"github.com/mmstats/mmstats/internal/cli"
)

// The -v levels.
const (
	levelWarn  = 1 // files that cannot be read or drop out
	levelInfo  = 2 // files coming and going
	levelDebug = 3 // what each interval costs
)

// logger prints "pollstats: message" lines on stderr, each up to a
// verbosity level.
type logger struct {
	w       io.Writer
	level   int
	printed int // lines printed
}

func (l *logger) printf(level int, format string, args ...any) {
	if l.level >= level {
		msg := fmt.Sprintf(format, args...)
		if cli.NeedsQuote(msg) { // a path in a system error, say: never raw
			msg = cli.Quote(msg)
		}
		fmt.Fprintf(l.w, "pollstats: %s\n", msg)
		l.printed++
	}
}

func (l *logger) warnf(format string, args ...any)  { l.printf(levelWarn, format, args...) }
func (l *logger) infof(format string, args ...any)  { l.printf(levelInfo, format, args...) }
func (l *logger) debugf(format string, args ...any) { l.printf(levelDebug, format, args...) }
