package prom

import (
	"hash/crc32"
	"math/rand/v2"
	"testing"
)

// TestCRCCombine: the CRC of pieces combined is the CRC of the whole,
// for pieces of every length from 0 up, as a gzip trailer needs it.
func TestCRCCombine(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	data := make([]byte, 300000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for _, cut := range [][]int{{0}, {1}, {5, 7}, {8, 9, 100}, {255, 256, 4096}, {65536, 70000, 200000}, {299999}} {
		crc, prev := uint32(0), 0
		for _, end := range append(cut, len(data)) {
			piece := data[prev:end]
			crc = crcCombine(crc, crc32.ChecksumIEEE(piece), len(piece))
			prev = end
		}
		if want := crc32.ChecksumIEEE(data); crc != want {
			t.Errorf("cut at %v: %08x, want %08x", cut, crc, want)
		}
	}
}
