package pollstats

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// maxDelay bounds --delay, far below where a Duration overflows.
const maxDelay = 24 * time.Hour

// delayValue is the --delay flag: seconds, fractions allowed ("0.2"), as
// the Python original takes them, or a Go duration ("200ms").
type delayValue time.Duration

func (d *delayValue) String() string {
	return strconv.FormatFloat(time.Duration(*d).Seconds(), 'f', -1, 64)
}

func (d *delayValue) Set(s string) error {
	v, err := parseDelay(s)
	if err != nil {
		return err
	}
	*d = delayValue(v)
	return nil
}

func (d *delayValue) Type() string { return "seconds" }

// parseDelay parses a number of seconds or a duration with a unit.
func parseDelay(s string) (time.Duration, error) {
	var d time.Duration
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(secs) || secs > maxDelay.Seconds() {
			return 0, fmt.Errorf("%q is not a number of seconds up to %v", s, maxDelay.Seconds())
		}
		d = time.Duration(math.Round(secs * float64(time.Second)))
	} else if d, err = time.ParseDuration(s); err != nil {
		return 0, fmt.Errorf("%q is not a number of seconds (such as 0.5) or a duration (such as 500ms)", s)
	}
	if d <= 0 || d > maxDelay {
		return 0, fmt.Errorf("%q: the delay must be more than 0 and at most %v", s, maxDelay)
	}
	return d, nil
}
