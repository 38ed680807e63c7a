//go:build !unix

package pollstats

import (
	"os"
	"syscall"
)

// notifySignals are the signals a run catches: the two that end it.
var notifySignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM}

// sigWinch is nil: this system has no signal for a resized terminal, and
// the columns keep the width they had at the start.
var sigWinch os.Signal
