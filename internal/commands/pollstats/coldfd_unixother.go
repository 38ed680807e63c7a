//go:build unix && !linux

package pollstats

// noAtime is 0: O_NOATIME is Linux's.
const noAtime = 0
