//go:build !unix

package mmash

// oDirectory is 0: this system has no O_DIRECTORY, and no FIFO that an
// open could block on.
const oDirectory = 0
