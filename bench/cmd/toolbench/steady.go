package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
)

// steadyMain is the verb steady: the CPU of one interval of pollers, as
// measurePollTargets takes it (runSteady), for any arguments. Each of
// the comma-separated binaries of -bins runs the arguments after "--"
// (which must count -c enough intervals: -skip + -n + 2), reps times,
// interleaved, and the runs and their median are printed, a line for
// each: a change to pollstats measured against the binary before it,
// in the same minutes, as
//
//	toolbench steady -bins OLD/pollstats,NEW/pollstats -reps 3 -- \
//		-c 27 -d 0.05 -p web.stats status.2XX,timers.request.p99 DIR
func steadyMain(args []string) error {
	fs := flag.NewFlagSet("steady", flag.ExitOnError)
	bins := fs.String("bins", "", "comma-separated pollers to run")
	reps := fs.Int("reps", 3, "runs of each, interleaved")
	skip := fs.Int("skip", 5, "lines of numbers before the measure")
	n := fs.Int("n", 20, "lines of numbers measured")
	fs.Parse(args)
	if *bins == "" || fs.NArg() == 0 {
		return errors.New("steady needs -bins and the poller's arguments after --")
	}
	names := strings.Split(*bins, ",")
	runs := make([][]time.Duration, len(names))
	for range *reps {
		for i, b := range names {
			r, err := runSteady(b, fs.Args(), *skip, *n)
			if err != nil {
				return err
			}
			runs[i] = append(runs[i], r.cpu)
		}
	}
	for i, b := range names {
		fmt.Printf("%s: %v CPU an interval (median; runs %v)\n", b, median(runs[i]), runs[i])
	}
	return nil
}
