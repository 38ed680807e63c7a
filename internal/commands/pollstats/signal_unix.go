//go:build unix

package pollstats

import (
	"os"
	"syscall"
)

// notifySignals are the signals a run catches: the two that end it, and
// sigWinch.
var notifySignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGWINCH}

// sigWinch says that the terminal was resized: the columns are fitted to
// the new width.
var sigWinch os.Signal = syscall.SIGWINCH
