package pollstats

import "time"

// The Go writer refreshes the values it computes (the runtime's stats,
// rates) once per RefreshInterval, on wall-clock multiples of it: at
// whole seconds by default. An interval of pollstats that spans one
// refresh, then two, then one, shows 0 and then twice the change in turn.
// So with a delay of whole seconds the polls fall half way between two
// refreshes, at the half second of the wall clock: every interval then
// spans exactly as many refreshes as it has seconds, with half a second
// of margin either side for the writer's and pollstats's own lateness.

// pollPhase is where in the second of the wall clock the polls fall, for
// a delay of whole seconds.
const pollPhase = 500 * time.Millisecond

// nextPoll returns when the poll after the one due at due should be,
// pollstats's clock saying now (the first poll: due is the start). It
// is a delay after due, or after now if pollstats fell behind (it was
// suspended, or an interval took longer than the delay); for a delay of
// whole seconds, moved to the nearest half second of the wall clock.
func nextPoll(due, now time.Time, delay time.Duration) time.Time {
	next := due.Add(delay)
	if next.Before(now) {
		next = now.Add(delay)
	}
	if delay%time.Second == 0 {
		next = onPhase(next)
	}
	return next
}

// onPhase returns the instant nearest to t whose wall clock is pollPhase
// past a whole second.
func onPhase(t time.Time) time.Time {
	off := time.Duration((t.UnixNano()-int64(pollPhase))%int64(time.Second)+int64(time.Second)) % time.Second
	if off < time.Second/2 {
		return t.Add(-off)
	}
	return t.Add(time.Second - off)
}
