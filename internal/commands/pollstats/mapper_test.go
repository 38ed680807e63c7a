package pollstats

import "sync/atomic"

// The package's tests run without a mapping helper unless they start one
// (mapper_linux_test.go): os.Executable is the test binary here.
func init() {
	startMapper = nil
	mapperCount = &mapperServed
}

// mapperServed counts the files' words read from a helper's region, over
// the pollers whose helper stopped.
var mapperServed atomic.Int64
