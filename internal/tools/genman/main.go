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
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mmstats/mmstats/internal/cli"
	"github.com/mmstats/mmstats/internal/commands/cleanstats"
	"github.com/mmstats/mmstats/internal/commands/demo"
	"github.com/mmstats/mmstats/internal/commands/mmash"
	"github.com/mmstats/mmstats/internal/commands/pollstats"
	"github.com/mmstats/mmstats/internal/commands/slurpstats"
)

// commands returns the tools that get a man page, built on s: add a
// tool with one line.
func commands(s *cli.Streams) []*cobra.Command {
	return []*cobra.Command{
		slurpstats.NewCmd(s, nil),
		pollstats.NewCmd(s, nil),
		cleanstats.NewCmd(s, nil),
		mmash.NewCmd(s, nil),
		demo.NewCmd(s, nil),
	}
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
	var names []string
	var cmds []*cobra.Command
	for _, cmd := range commands(pageStreams()) {
		cmds = append(cmds, cmd)
		names = append(names, cmd.Name())
	}
	for _, cmd := range cmds {
		var seeAlso []string
		for _, n := range names {
			if n != cmd.Name() {
				seeAlso = append(seeAlso, n)
			}
		}
		if err := writeTree(dir, cmd, seeAlso); err != nil {
			return fmt.Errorf("%s: %w", cmd.Name(), err)
		}
	}
	return nil
}

// pageStreams are the streams the commands are built with: the pages
// must not depend on the terminal the generator runs in.
func pageStreams() *cli.Streams {
	return &cli.Streams{In: nil, Out: io.Discard, Err: io.Discard, Width: func() int { return 0 }}
}

// writeTree writes the page of cmd and of its visible subcommands.
func writeTree(dir string, cmd *cobra.Command, seeAlso []string) error {
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
			if err := writeTree(dir, sub, []string{cmd.Name()}); err != nil {
				return err
			}
		}
	}
	f, err := os.Create(filepath.Join(dir, pageName(cmd)))
	if err != nil {
		return err
	}
	if err := writePage(f, cmd, date, seeAlso); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// pageName is the file name of the page of cmd.
func pageName(cmd *cobra.Command) string {
	return strings.ReplaceAll(cmd.CommandPath(), " ", "-") + ".1"
}
