// Command mmash serves mmstats over HTTP: the JSON API of the original
// mmash, a page of live values and plots, and Prometheus metrics.
//
//	mmash [--listen HOST:PORT] [--dir DIR] [--glob GLOB]
package main

import (
	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/commands/mmash"
)

func main() { cli.Exit(mmash.NewCmd(cli.System(), nil)) }
