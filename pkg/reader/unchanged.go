package reader

// Unchanged reports whether Update would find nothing new in f, with
// two loads: f is mapped, and its writer has neither appended a field
// nor replaced the file by a larger copy. Update of such a file returns
// (false, nil) and changes nothing: a poller of many files may skip it.
func (f *File) Unchanged() bool {
	return f.data != nil && f.mapped && f.unchanged()
}
