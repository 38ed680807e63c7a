package mmash

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// labels serves GET /stats/: {"stats": [every label, sorted, once]}.
func (s *server) labels(w http.ResponseWriter, r *http.Request) {
	files, err := s.read("")
	if err != nil {
		jsonError(w, err)
		return
	}
	b := append([]byte(nil), `{"stats": [`...)
	for i, l := range uniqueLabels(files) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = reader.AppendJSONString(b, l)
	}
	writeJSON(w, append(b, "]}\n"...))
}

// uniqueLabels returns the labels of files, sorted, each once.
func uniqueLabels(files []fileStats) []string {
	set := map[string]bool{}
	for _, f := range files {
		for _, st := range f.stats {
			set[st.Label] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// stat serves GET /stats/NAME: {label: [value of each file]} for every
// label that starts with NAME (?exact: that is NAME), in the files of
// ?glob, with the values of each label reduced to one by ?aggr. Labels
// are sorted; values come in the order of the files' names.
func (s *server) stat(w http.ResponseWriter, r *http.Request, name string) {
	q := r.URL.Query()
	exact := q.Get("exact") != "" && q.Get("exact") != "0" && q.Get("exact") != "false"
	var aggr aggregator
	if a := q.Get("aggr"); a != "" {
		if aggr = aggregators[a]; aggr == nil {
			jsonError(w, &requestError{fmt.Sprintf("unknown aggregator %q (use one of %s)", a, aggregatorNames)})
			return
		}
	}
	files, err := s.read(q.Get("glob"))
	if err != nil {
		jsonError(w, err)
		return
	}
	values := map[string][]reader.Value{}
	for _, f := range files {
		for _, st := range f.stats {
			if st.Label == name || !exact && strings.HasPrefix(st.Label, name) {
				values[st.Label] = append(values[st.Label], st.Value)
			}
		}
	}
	b := append([]byte(nil), '{')
	for i, label := range slices.Sorted(maps.Keys(values)) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = reader.AppendJSONString(b, label)
		b = append(b, ": "...)
		vals := values[label]
		if aggr != nil {
			v, err := aggr(vals)
			if err != nil {
				jsonError(w, &requestError{fmt.Sprintf("aggr=%s of %s: %v", q.Get("aggr"), label, err)})
				return
			}
			b = v.AppendJSON(b)
			continue
		}
		b = append(b, '[')
		for j, v := range vals {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = v.AppendJSON(b)
		}
		b = append(b, ']')
	}
	writeJSON(w, append(b, "}\n"...))
}

// files serves GET /files/ and /files/GLOB: {"files": [names]}, the files
// that read as mmstats files, named relative to the stats directory, sorted.
func (s *server) files(w http.ResponseWriter, r *http.Request, glob string) {
	files, err := s.read(glob)
	if err != nil {
		jsonError(w, err)
		return
	}
	b := append([]byte(nil), `{"files": [`...)
	for i, f := range files {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = reader.AppendJSONString(b, f.name)
	}
	writeJSON(w, append(b, "]}\n"...))
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// jsonError answers {"error": message}: 400 for a requestError, 500 for
// anything else.
func jsonError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	var re *requestError
	if errors.As(err, &re) {
		code = http.StatusBadRequest
	}
	b := reader.AppendJSONString(append([]byte(nil), `{"error": `...), err.Error())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(b, "}\n"...))
}
