package v1file

// PythonFields are the default fields of a file that the Python writer
// (mmstats 0.8.0) made for process pid of user uid at created (seconds
// since the epoch): it has no sys.flock, so cleanstats decides by PID.
func PythonFields(pid uint32, uid uint64, created float64) []Field {
	return []Field{
		Unbuffered("sys.pid", "I", U32(pid)),
		Unbuffered("sys.tid", "q", U64(uint64(pid))),
		Unbuffered("sys.uid", "Q", U64(uid)),
		Unbuffered("sys.gid", "Q", U64(uid)),
		Unbuffered("org.python.version", "256s", Str("2.7.18", 256)),
		Unbuffered("sys.created", "d", F64(created)),
	}
}

// Python returns the bytes of a file of PythonFields, and extra fields
// after them, a page long.
func Python(pid uint32, uid uint64, created float64, extra ...Field) []byte {
	return Bytes(4096, append(PythonFields(pid, uid, created), extra...)...)
}
