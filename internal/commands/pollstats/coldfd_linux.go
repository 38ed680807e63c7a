package pollstats

import "golang.org/x/sys/unix"

// noAtime is the flag that spares a read the update of the file's access
// time (O_NOATIME): pollstats reads tens of thousands of files each
// interval, and even relatime's checks cost some 4% of that. The kernel
// allows it to the file's owner and to root only (EPERM otherwise).
const noAtime = unix.O_NOATIME
