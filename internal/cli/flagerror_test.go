package cli

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestFlagValueErrors checks that a flag value of the wrong type is a
// usage error in words, without Go's parser message.
func TestFlagValueErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--workers", "abc"}, `tool: --workers must be a whole number, got "abc"` + "\n"},
		{[]string{"--workers=1.5"}, `tool: --workers must be a whole number, got "1.5"` + "\n"},
		{[]string{"-n", "99999999999999999999"}, `tool: --workers: "99999999999999999999" is out of range` + "\n"},
		{[]string{"--size", "-1"}, `tool: --size must be a whole number, 0 or more, got "-1"` + "\n"},
		{[]string{"--rate", "fast"}, `tool: --rate must be a number, got "fast"` + "\n"},
		{[]string{"--duration", "soon"}, `tool: --duration must be a duration such as 20s, 1.5m or 2h, got "soon"` + "\n"},
		{[]string{"--load=maybe"}, `tool: --load must be true or false, got "maybe"` + "\n"},
		{[]string{"--color", "pink"}, `tool: invalid argument "pink" for "--color" flag: pick red or blue` + "\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := command(func() error { return nil })
			f := cmd.Flags()
			f.IntP("workers", "n", 1, "")
			f.Uint("size", 0, "")
			f.Float64("rate", 1, "")
			f.Duration("duration", time.Second, "")
			f.Bool("load", false, "")
			f.Var(&choice{}, "color", "")
			cmd.SetArgs(tt.args)
			var stderr bytes.Buffer
			code := Main(cmd, &stderr)
			want := tt.want + "Try 'tool --help' for more information.\n"
			if code != ExitUsage || stderr.String() != want {
				t.Errorf("exit status %d, stderr %q; want %d, %q", code, stderr.String(), ExitUsage, want)
			}
		})
	}
}

// choice is a flag value with its own error message.
type choice struct{ v string }

func (c *choice) String() string { return c.v }
func (c *choice) Type() string   { return "color" }
func (c *choice) Set(s string) error {
	if s != "red" && s != "blue" {
		return errors.New("pick red or blue")
	}
	c.v = s
	return nil
}
