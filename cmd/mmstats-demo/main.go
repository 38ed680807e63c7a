// Command mmstats-demo runs the WebStats example of the mmstats
// documentation: a web server whose workers write their stats to mmstats
// files, optionally with traffic of its own. See mmstats-demo --help.
package main

import (
	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/commands/demo"
)

func main() { cli.Exit(demo.NewCmd(cli.System(), nil)) }
