package mmash

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mmstats/mmstats/pkg/reader"
)

// assets are the pages' templates and, under static/, the script and
// style sheet they load: everything the pages use comes from mmash itself.
//
//go:embed assets
var assets embed.FS

var (
	pages       = template.Must(template.ParseFS(assets, "assets/*.html"))
	staticFiles = http.StripPrefix("/static/", http.FileServerFS(mustSub(assets, "assets/static")))
)

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// labelLink is a label and its escaped /stats/ path.
type labelLink struct {
	Label, Path string
}

func link(label string) labelLink { return labelLink{label, url.PathEscape(label)} }

// index serves GET /: the labels, each a link to its values.
func (s *server) index(w http.ResponseWriter, r *http.Request) {
	files, _ := s.read("") // the default glob is never refused
	var links []labelLink
	for _, l := range uniqueLabels(files) {
		links = append(links, link(l))
	}
	render(w, "index.html", map[string]any{"Pattern": s.pattern(), "Labels": links})
}

// numberStat is a row of the graph page: a numeric label, how many files
// have it and the sum of their values.
type numberStat struct {
	labelLink
	Files int
	Value string
}

// stringStat is a string label and its value in each file.
type stringStat struct {
	Label  string
	Values []fileValue
}

type fileValue struct{ File, Value string }

// graph serves GET /graph/: string values, and numeric values that the
// page's script updates and plots. A label is numeric when its value in
// the first file is (booleans are 0 and 1).
func (s *server) graph(w http.ResponseWriter, r *http.Request) {
	files, _ := s.read("")
	var numbers []numberStat
	var strs []stringStat
	for _, label := range uniqueLabels(files) {
		var vals []reader.Value
		var fvs []fileValue
		for _, f := range files {
			for _, st := range f.stats {
				if st.Label == label {
					vals = append(vals, st.Value)
					fvs = append(fvs, fileValue{f.name, st.Value.String()})
					break
				}
			}
		}
		if !vals[0].Kind().Numeric() {
			strs = append(strs, stringStat{label, fvs})
			continue
		}
		text := "error"
		if v, err := sum(vals); err == nil {
			text = string(v.AppendJSON(nil))
		}
		numbers = append(numbers, numberStat{link(label), len(vals), text})
	}
	names := slices.Sorted(maps.Keys(aggregators))
	render(w, "graph.html", map[string]any{
		"Pattern": s.pattern(), "Numbers": numbers, "Strings": strs, "Aggregators": names,
	})
}

// render executes a page template into a buffer first, so that a failure
// is a clean 500 rather than half a page.
func render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "500 "+strings.TrimSpace(err.Error()), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// Scripts and styles only from mmash itself; the script fetches only
	// mmash's API.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
	w.Write(buf.Bytes())
}
