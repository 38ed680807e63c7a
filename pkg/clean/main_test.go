package clean

import (
	"os"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
)

// TestMain runs a child role of TestFoldSurvivesKills when asked to,
// and otherwise the tests; it removes the binaries that testutil.Binary
// built.
func TestMain(m *testing.M) {
	if code, ok := foldRole(); ok {
		os.Exit(code)
	}
	testutil.Main(m)
}
