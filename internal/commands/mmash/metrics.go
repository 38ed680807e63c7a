package mmash

import (
	"net/http"

	"github.com/mmstats/mmstats/internal/prom"
)

// metrics serves GET /metrics: every numeric stat of the default files in
// the Prometheus text format, one series per file, labelled with the
// file's base name and its writer's PID (see prom.Set.AddFile).
func (s *server) metrics(w http.ResponseWriter, r *http.Request) {
	files, err := s.read("")
	if err != nil {
		jsonError(w, err)
		return
	}
	var set prom.Set
	for _, f := range files {
		set.AddFile(f.name, "", f.stats)
	}
	w.Header().Set("Content-Type", prom.ContentType)
	w.Header().Set("Cache-Control", "no-store")
	set.WriteTo(w) // an error means the client has gone
}
