package cli

import "github.com/spf13/cobra"

// Command finishes the root command of a tool, as every tool builds it:
//
//	// Options are the settings of one run, with the streams it uses.
//	type Options struct {
//		Streams *cli.Streams
//		...            // one field per flag, and Args
//	}
//
//	// NewCmd returns the command; runF, if not nil, runs instead of Run
//	// (tests capture the options with it).
//	func NewCmd(streams *cli.Streams, runF func(*Options) error) *cobra.Command {
//		opts := &Options{Streams: streams}
//		cmd := &cobra.Command{..., RunE: func(c *cobra.Command, args []string) error {
//			opts.Args = args
//			if err := opts.Validate(); err != nil { // usage errors
//				return err
//			}
//			if runF != nil {
//				return runF(opts)
//			}
//			return Run(opts)
//		}}
//		opts.AddFlags(cmd.Flags())
//		return cli.Command(cmd, streams)
//	}
//
//	// Run does the work, writing to o.Streams only.
//	func Run(o *Options) error
//
// and its main is one statement: cli.Exit(tool.NewCmd(cli.System(), nil)).
// Command sends the command's help and messages to streams, and applies
// Setup.
func Command(cmd *cobra.Command, streams *Streams) *cobra.Command {
	if streams.In != nil {
		cmd.SetIn(streams.In)
	}
	cmd.SetOut(streams.Out)
	cmd.SetErr(streams.Err)
	return Setup(cmd)
}
