package mmstats

import (
	"path/filepath"
	"sync"

	"github.com/mmstats/mmstats/internal/fileid"
)

// fileID identifies a file by device and inode.
type fileID = fileid.ID

// registry knows the files this process created and has not removed, by
// device and inode. File.Remove deletes other files only if they are in
// it (and still at their path): never by a PID read from a file, which
// another process in another PID namespace may share. New uses it to say
// that a name is taken by this very process.
var registry = struct {
	sync.Mutex
	files map[fileID]*regEntry
}{files: map[fileID]*regEntry{}}

// regEntry is a file this process created.
type regEntry struct {
	path string
	open bool // false once its File is closed (the file stays on disk)
}

func register(id fileID, path string) {
	registry.Lock()
	registry.files[id] = &regEntry{path: path, open: true}
	registry.Unlock()
}

// reregister moves an entry to the file's new identity (after growth).
func reregister(old, id fileID) {
	registry.Lock()
	if e := registry.files[old]; e != nil {
		delete(registry.files, old)
		registry.files[id] = e
	}
	registry.Unlock()
}

func unregister(id fileID) {
	registry.Lock()
	delete(registry.files, id)
	registry.Unlock()
}

func markClosed(id fileID) {
	registry.Lock()
	if e := registry.files[id]; e != nil {
		e.open = false
	}
	registry.Unlock()
}

// lookup returns the entry of the file now at path, if this process
// created it.
func lookup(path string) (regEntry, bool) {
	id, regular, err := pathID(path)
	if err != nil || !regular {
		return regEntry{}, false
	}
	registry.Lock()
	defer registry.Unlock()
	e := registry.files[id]
	if e == nil || e.path != path {
		return regEntry{}, false
	}
	return *e, true
}

// ownFilesMatching returns the files this process created, other than
// except, whose base name matches pattern in dir.
func ownFilesMatching(dir, pattern string, except fileID) map[fileID]string {
	out := map[fileID]string{}
	registry.Lock()
	defer registry.Unlock()
	for id, e := range registry.files {
		if id == except || filepath.Dir(e.path) != dir {
			continue
		}
		if ok, _ := filepath.Match(pattern, filepath.Base(e.path)); ok {
			out[id] = e.path
		}
	}
	return out
}
