// Command slurpstats prints the stats in mmstats files.
//
//	slurpstats [-f GLOB]... [-o text|table|json] [FILE|DIR|GLOB]...
package main

import (
	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/commands/slurpstats"
)

func main() { cli.Exit(slurpstats.NewCmd(cli.System(), nil)) }
