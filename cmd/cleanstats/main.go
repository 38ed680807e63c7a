// Command cleanstats removes the mmstats files that dead processes left
// behind, and nothing else.
//
//	cleanstats [-n] [-q|-v] [--json] [FILE|DIR|GLOB]...
package main

import (
	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/commands/cleanstats"
)

func main() { cli.Exit(cleanstats.NewCmd(cli.System(), nil)) }
