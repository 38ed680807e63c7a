// Command pollstats shows, every interval, the changes of some fields
// summed over many mmstats files: a vmstat for mmstats.
//
//	pollstats [-c N] [-d SECONDS] [-f KEY[=VALUE]]... [-n N] [-p PREFIX] [-a] [-v]... FIELDS [FILE|DIR|GLOB]...
package main

import (
	"os"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/commands/pollstats"
)

func main() {
	if pollstats.MapperMode() { // pollstats' own helper (see MapperMain)
		os.Exit(pollstats.MapperMain())
	}
	cli.Exit(pollstats.NewCmd(cli.System(), nil))
}
