package pollstats

import (
	"slices"
	"testing"
)

func TestSuggest(t *testing.T) {
	labels := []string{
		"web.stats.status.2XX", "web.stats.status.3XX", "web.stats.status.5XX",
		"web.stats.timers.request", "web.stats.working", "sys.pid",
	}
	for _, tt := range []struct {
		field, prefix string
		near, nearest []string
	}{
		{"2XY", "web.stats.status", []string{"2XX"}, []string{"2XX", "3XX", "5XX"}},
		{"2xx", "web.stats.status.", []string{"2XX"}, []string{"2XX", "3XX", "5XX"}},
		{"request", "web.stats", []string{"timers.request"}, []string{"timers.request", "sys.pid", "working"}},
		{"request", "", []string{"web.stats.timers.request"}, []string{"web.stats.timers.request", "sys.pid", "web.stats.working"}},
		{"wroking", "web.stats", []string{"working"}, []string{"working", "sys.pid", "status.2XX"}},
		{"zzzzzzzzzzzzzzzzzzzzzz", "", nil, []string{"sys.pid", "web.stats.status.2XX", "web.stats.status.3XX"}},
	} {
		near, nearest := suggest(tt.field, tt.prefix, labels)
		if !slices.Equal(near, tt.near) || !slices.Equal(nearest, tt.nearest) {
			t.Errorf("suggest(%q, %q) = %q, %q; want %q, %q", tt.field, tt.prefix, near, nearest, tt.near, tt.nearest)
		}
	}
}

func TestTyped(t *testing.T) {
	for _, tt := range []struct{ label, prefix, want string }{
		{"web.stats.x", "web.stats", "x"},
		{"web.stats.x", "web.stats.", "x"},
		{"web.statsx", "web.stats", "web.statsx"},
		{"other.x", "web", "other.x"},
		{"web", "web", "web"},
	} {
		if got := typed(tt.label, tt.prefix); got != tt.want {
			t.Errorf("typed(%q, %q) = %q, want %q", tt.label, tt.prefix, got, tt.want)
		}
	}
}
