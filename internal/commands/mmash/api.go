package mmash

import (
	"fmt"
	"github.com/mmstats/mmstats/internal/textfmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// labels serves GET /stats/: {"stats": [every label, sorted, once]}.
func (s *server) labels(j *job, w http.ResponseWriter, r *http.Request) error {
	labels, err := j.uniqueLabels()
	if err != nil {
		return err
	}
	b := append([]byte(nil), `{"stats": [`...)
	for i, l := range labels {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = textfmt.AppendJSONString(b, l)
	}
	writeJSON(w, append(b, "]}\n"...))
	return nil
}

// uniqueLabels returns the labels of the default files, sorted, each once.
func (j *job) uniqueLabels() ([]string, error) {
	set := map[string]struct{}{}
	err := j.eachLabel("", func(l string) error {
		if _, ok := set[l]; ok {
			return nil
		}
		set[strings.Clone(l)] = struct{}{}
		return j.grow(len(l) + labelCost)
	}, nil)
	return slices.Sorted(maps.Keys(set)), err
}

// stat serves GET /stats/NAME for every label that starts with NAME
// (?exact: that is NAME), in the files of ?glob: each label's values
// combined by its own policy (no ?aggr, or aggr=policy), reduced to one by
// one of the original's aggregators (?aggr=sum...), or listed file by file
// (aggr=list: {label: [value of each file]}, what the original served with
// no aggr). Labels are sorted; listed values come in the order of the
// files' names, and a label that is not combined keeps its list.
func (s *server) stat(j *job, w http.ResponseWriter, r *http.Request, name string) error {
	q := r.URL.Query()
	exact := q.Get("exact") != "" && q.Get("exact") != "0" && q.Get("exact") != "false"
	want := func(label string) bool { return label == name || !exact && strings.HasPrefix(label, name) }
	var aggr aggregator
	var comb *combiner
	switch a := q.Get("aggr"); a {
	case "", policyAggr:
		comb = &combiner{}
	case listAggr:
	default:
		if aggr = aggregators[a]; aggr == nil {
			return &requestError{fmt.Sprintf("unknown aggregator %q (use one of %s, %s or %s)", a, aggregatorNames, policyAggr, listAggr)}
		}
	}
	values := map[string][]reader.Value{}
	err := j.eachReader(q.Get("glob"), func(file string, f *reader.File, stats []reader.Stat) error {
		for _, st := range stats {
			if want(st.Label) {
				n := valueCost + len(st.Value.Str())
				if _, ok := values[st.Label]; !ok {
					n += len(st.Label) + labelCost
				}
				values[st.Label] = append(values[st.Label], st.Value)
				if err := j.grow(n); err != nil {
					return err
				}
			}
		}
		if comb != nil {
			return comb.add(j, file, f, stats, want)
		}
		return nil
	})
	if err != nil {
		return err
	}
	b := append([]byte(nil), '{')
	for i, label := range slices.Sorted(maps.Keys(values)) {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = textfmt.AppendJSONString(b, label)
		b = append(b, ": "...)
		vals := values[label]
		if aggr != nil {
			v, err := aggr(vals)
			if err != nil {
				return &requestError{fmt.Sprintf("aggr=%s of %s: %v", q.Get("aggr"), label, err)}
			}
			b = v.AppendJSON(b)
			continue
		}
		if comb != nil {
			if t, ok := comb.acc.Total(label); ok && combined(&t) {
				b = appendTotalJSON(b, &t)
				continue
			}
			// Not combined: its list, as with aggr=list.
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
	return nil
}

// files serves GET /files/ and /files/GLOB: {"files": [names]}, the files
// that read as mmstats files, named relative to the stats directory, sorted.
func (s *server) files(j *job, w http.ResponseWriter, r *http.Request, glob string) error {
	var names []string
	err := j.eachLabel(glob, nil, func(name string) error {
		names = append(names, name)
		return nil // counted with the matches
	})
	if err != nil {
		return err
	}
	b := append([]byte(nil), `{"files": [`...)
	for i, name := range names {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = textfmt.AppendJSONString(b, name)
	}
	writeJSON(w, append(b, "]}\n"...))
	return nil
}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// writeError answers {"error": msg} with status code.
func writeError(w http.ResponseWriter, code int, msg string) {
	b := textfmt.AppendJSONString(append([]byte(nil), `{"error": `...), msg)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, "}\n"...))
}
