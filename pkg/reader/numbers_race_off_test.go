//go:build !race

package reader_test

const numbersRace = false
