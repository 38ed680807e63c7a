// Command toolbench measures the built tools on many stats files and
// prints the table of scripts/bench. Its verbs:
//
//	toolbench tools -bin DIR -out FILE [-sizes 1000,10000,100000] [-reps 5]
//	toolbench table -raw DIR
//	toolbench mmash -bin DIR -out FILE [-files 1000] [-reps 15]  (mmash.go)
//	toolbench files -n N DIR  (writes the files the tools are measured on, to time them by hand)
//	toolbench steady -bins BIN[,BIN] [-reps 3] -- ARGS  (a poller's CPU an interval, any arguments: steady.go)
//	toolbench hold            (internal: holds the writers' locks of live files)
//	toolbench pollanchor -c K -d D DIR  (internal: the anchor of pollstats's targets, pollstats.go)
//	toolbench cleananchor DIR  (internal: the anchor of cleanstats's target, clean.go)
//
// tools writes copies of one file made by the real writer (a web worker's
// stats) into a directory on /dev/shm (or the temp dir without it), runs
// slurpstats, pollstats and cleanstats on them as child processes, and
// records each run's wall time, CPU time (user + system, from the child's
// rusage) and peak RSS (ru_maxrss), next to the same-run anchors: cat(1)
// of the same files, and rm(1) of the files cleanstats removes.
//
// table reads what scripts/bench left in its raw directory (go test
// outputs and tools' JSON) and prints one fixed-width table.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "tools":
		err = toolsMain(os.Args[2:])
	case "table":
		err = tableMain(os.Args[2:])
	case "mmash":
		err = mmashMain(os.Args[2:])
	case "files":
		err = filesMain(os.Args[2:])
	case "hold":
		err = holdMain()
	case "steady":
		err = steadyMain(os.Args[2:])
	case "pollanchor":
		err = pollAnchorMain(os.Args[2:])
	case "cleananchor":
		err = cleanAnchorMain(os.Args[2:]) // clean.go
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "toolbench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: toolbench tools -bin DIR -out FILE [-sizes N,N] [-reps N] | mmash -bin DIR -out FILE [-files N] [-reps N] | table -raw DIR | files -n N DIR | steady -bins BIN[,BIN] [-reps N] -- ARGS | hold")
	os.Exit(2)
}
