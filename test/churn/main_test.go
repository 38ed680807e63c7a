//go:build linux

package churn

import (
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
)

// TestMain removes the binaries that testutil.Binary built.
func TestMain(m *testing.M) { testutil.Main(m) }
