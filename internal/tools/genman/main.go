// Command genman writes the man pages of the mmstats tools from their cobra
// commands. Run it through scripts/gen-man; a test fails when man/ is out of
// date.
//
//	go run ./internal/tools/genman [-out DIR]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/commands/cleanstats"
	"github.com/mmstats/mmstats/internal/commands/demo"
	"github.com/mmstats/mmstats/internal/commands/mmash"
	"github.com/mmstats/mmstats/internal/commands/pollstats"
	"github.com/mmstats/mmstats/internal/commands/slurpstats"
)

// commands are the tools that get a man page: add a tool with one line.
var commands = []func(*cli.Streams) *cobra.Command{
	slurpstats.NewCommand,
	pollstats.NewCommand,
	cleanstats.NewCommand,
	mmash.NewCommand,
	demo.NewCommand,
}

// date is the date every page shows, fixed so that the output is
// reproducible (bump it when the pages change meaningfully).
var date = time.Date(2026, time.May, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("out", "man", "directory to write the pages to")
	flag.Parse()
	if err := generate(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genman:", err)
		os.Exit(1)
	}
}

// generate writes one page per command (and subcommand) into dir.
func generate(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// The pages must not depend on the terminal the generator runs in.
	streams := &cli.Streams{In: nil, Out: io.Discard, Err: io.Discard, Width: func() int { return 0 }}
	for _, newCommand := range commands {
		cmd := newCommand(streams)
		cmd.DisableAutoGenTag = true // its HISTORY line only repeats the date
		header := &doc.GenManHeader{
			Section: "1",
			Date:    &date,
			Source:  "mmstats",
			Manual:  "mmstats manual",
		}
		if err := doc.GenManTree(cmd, header, dir); err != nil {
			return fmt.Errorf("%s: %w", cmd.Name(), err)
		}
	}
	return nil
}
