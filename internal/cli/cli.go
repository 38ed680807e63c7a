// Package cli holds what every mmstats command shares: the shape of a
// command (Command), exit codes, error reporting, the version flag,
// streams and terminal detection (with fake ones for tests), and the
// resolution of FILE|DIR|GLOB arguments.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/mmstats/mmstats/internal/version"
)

// Exit statuses shared by the tools.
const (
	ExitOK      = 0 // everything was handled
	ExitFailure = 1 // some input could not be handled (each one reported)
	ExitUsage   = 2 // bad flags or arguments
)

// ExitError ends a command with Code. Err, if not nil, is printed as one
// line; a nil Err means the problems were already reported.
type ExitError struct {
	Code int
	Err  error
}

// Error returns the message of Err, or the exit status when Err is nil.
func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *ExitError) Unwrap() error { return e.Err }

// Failed returns the error for "some inputs failed and were reported".
func Failed() error { return &ExitError{Code: ExitFailure} }

// UsageError returns a usage error (exit status 2) with a message.
func UsageError(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// IsBrokenPipe reports whether err comes from writing to a closed pipe.
func IsBrokenPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }

// Setup applies the settings every root command shares: the version
// flag, the error handling Main expects, flag errors as usage errors, and
// run errors that are not ExitErrors as failures (exit status 1).
func Setup(cmd *cobra.Command) *cobra.Command {
	cmd.Version = version.String()
	cmd.SetVersionTemplate("{{.Name}} {{.Version}}\n")
	// -V is --version in every tool, so that -v can mean --verbose in
	// every tool (cobra would otherwise take -v for the version).
	cmd.Flags().BoolP("version", "V", false, "print the version and exit")
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &ExitError{Code: ExitUsage, Err: plainFlagError(err)}
	})
	if args := cmd.Args; args != nil {
		cmd.Args = func(c *cobra.Command, a []string) error {
			if err := args(c, a); err != nil {
				return &ExitError{Code: ExitUsage, Err: err}
			}
			return nil
		}
	}
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, a []string) error {
			err := run(c, a)
			var exit *ExitError
			if err != nil && !errors.As(err, &exit) && !IsBrokenPipe(err) {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			return err
		}
	}
	return cmd
}

// Main executes a command built with Setup and returns the exit status,
// printing a final error as "name: message" on stderr. A broken pipe ends
// the command quietly with status 0: the reader has gone, as with `| head`.
func Main(cmd *cobra.Command, stderr io.Writer) int {
	err := cmd.Execute()
	if err == nil || IsBrokenPipe(err) {
		return ExitOK
	}
	code := ExitUsage // errors that cobra returns before running: unknown flags, arguments
	var exit *ExitError
	if errors.As(err, &exit) {
		code = exit.Code
		err = exit.Err
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", cmd.Name(), err)
		if code == ExitUsage {
			fmt.Fprintf(stderr, "Try '%s --help' for more information.\n", cmd.Name())
		}
	}
	return code
}

// Exit is the whole body of a tool's main: run the command and exit with
// its status. SIGPIPE is ignored so that a write to a closed pipe returns
// EPIPE, which Main turns into a quiet exit.
func Exit(cmd *cobra.Command) {
	signal.Ignore(syscall.SIGPIPE)
	os.Exit(Main(cmd, os.Stderr))
}
