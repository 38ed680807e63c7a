//go:build !race

package mmash

const raceEnabled = false
