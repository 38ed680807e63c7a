package mmstats

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mmstats/mmstats/internal/convention"
)

// TestDefaultFieldsFollowConvention: the labels of the default fields
// (struct tags, which cannot name a constant) are the ones that
// internal/convention defines and the tools look for.
func TestDefaultFieldsFollowConvention(t *testing.T) {
	var labels []string
	typ := reflect.TypeFor[defaultFields]()
	for i := range typ.NumField() {
		label, _, _ := strings.Cut(typ.Field(i).Tag.Get("mmstats"), ",")
		if strings.HasPrefix(label, "sys.") {
			labels = append(labels, label)
		}
	}
	if !slices.Equal(labels, convention.Defaults[:]) {
		t.Errorf("the writer's sys.* fields are %q, convention.Defaults %q", labels, convention.Defaults)
	}
}
