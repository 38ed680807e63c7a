//go:build mmstats_testhooks

package reader

import (
	"os"
	"strconv"
)

// testMaxMapCountEnv names the variable that sets testMaxMapCount in a
// binary built with the tag mmstats_testhooks.
const testMaxMapCountEnv = "MMSTATS_TEST_MAX_MAP_COUNT"

func init() {
	if n, err := strconv.ParseInt(os.Getenv(testMaxMapCountEnv), 10, 64); err == nil && n > 0 {
		testMaxMapCount = n
	}
}
