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
func (s *server) index(j *job, w http.ResponseWriter, r *http.Request) error {
	labels, err := j.uniqueLabels()
	if err != nil {
		return err
	}
	links := make([]labelLink, len(labels))
	for i, l := range labels {
		links[i] = link(l)
	}
	render(w, "index.html", map[string]any{"Pattern": s.pattern(), "Labels": links})
	return nil
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

// graphLabel is what the graph page gathers of one label: its values
// when its value in the first file is numeric, or else the text of each
// file's value.
type graphLabel struct {
	numeric bool
	values  []reader.Value
	texts   []fileValue
	last    string // the file of the last value
}

// graph serves GET /graph/: string values, and numeric values that the
// page's script updates and plots. A label is numeric when its value in
// the first file is (booleans are 0 and 1). The files are read once, and
// each stat goes to its label through a map: the page costs time in
// proportion to the stats, however many labels there are.
func (s *server) graph(j *job, w http.ResponseWriter, r *http.Request) error {
	labels := map[string]*graphLabel{}
	err := j.eachFile("", func(name string, stats []reader.Stat) error {
		n := 0
		for _, st := range stats {
			g := labels[st.Label]
			if g == nil {
				g = &graphLabel{numeric: st.Value.Kind().Numeric()}
				labels[st.Label] = g
				n += len(st.Label) + labelCost
			} else if g.last == name {
				continue // a label twice in one file: its first value counts
			}
			g.last = name
			if g.numeric {
				g.values = append(g.values, st.Value)
				n += valueCost
			} else {
				text := st.Value.String()
				g.texts = append(g.texts, fileValue{name, text})
				n += valueCost + len(name) + len(text)
			}
		}
		return j.grow(n)
	})
	if err != nil {
		return err
	}
	var numbers []numberStat
	var strs []stringStat
	for _, label := range slices.Sorted(maps.Keys(labels)) {
		g := labels[label]
		if !g.numeric {
			strs = append(strs, stringStat{label, g.texts})
			continue
		}
		text := "error"
		if v, err := sum(g.values); err == nil {
			text = string(v.AppendJSON(nil))
		}
		numbers = append(numbers, numberStat{link(label), len(g.values), text})
	}
	names := slices.Sorted(maps.Keys(aggregators))
	render(w, "graph.html", map[string]any{
		"Pattern": s.pattern(), "Numbers": numbers, "Strings": strs, "Aggregators": names,
	})
	return nil
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
