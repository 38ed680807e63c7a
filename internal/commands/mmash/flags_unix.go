//go:build unix

package mmash

import "syscall"

// oDirectory makes an open fail on anything but a directory (O_DIRECTORY).
const oDirectory = syscall.O_DIRECTORY
