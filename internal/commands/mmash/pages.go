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
// have it, how they are combined and the result (as JSON, which the
// page's script formats by the label's kind and unit).
type numberStat struct {
	labelLink
	Files  int
	Value  string
	Policy string // the policy's name, for the script
	How    string // how the files are combined, for people
	Kind   string // counter, gauge, timestamp, info or ""
	Unit   string
}

// stringStat is a label that is not combined (a string, an info such as
// sys.pid, numbers mixed with strings) and its value in each file.
type stringStat struct {
	Label  string
	Kind   string // the first file's, for the script (timestamps as dates)
	Values []fileValue
}

type fileValue struct{ File, Value string }

// graphLabel is what the graph page gathers of one label: its value in
// each file.
type graphLabel struct {
	numeric bool // its value in the first file is a number
	values  []fileStat
	last    string // the file of the last value
}

type fileStat struct {
	file  string
	value reader.Value
}

// all chooses every label.
func all(string) bool { return true }

// graph serves GET /graph/: the numeric values, each combined over the
// files by its policy (pkg/aggregate), which the page's script updates
// and plots, and the values that are not combined (strings, PIDs) file
// by file. A label is numeric when its value in the first file is
// (booleans are 0 and 1). The files are read once, and each stat goes to
// its label through a map: the page costs time in proportion to the
// stats, however many labels there are.
func (s *server) graph(j *job, w http.ResponseWriter, r *http.Request) error {
	labels := map[string]*graphLabel{}
	var comb combiner
	err := j.eachReader("", func(name string, f *reader.File, stats []reader.Stat) error {
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
			g.values = append(g.values, fileStat{name, st.Value})
			n += valueCost + len(st.Value.Str())
		}
		if err := j.grow(n); err != nil {
			return err
		}
		return comb.add(j, name, f, stats, all)
	})
	if err != nil {
		return err
	}
	var numbers []numberStat
	var perFile []stringStat
	for _, label := range slices.Sorted(maps.Keys(labels)) {
		g := labels[label]
		t, ok := comb.acc.Total(label)
		if !g.numeric || !ok || !combined(&t) {
			st := stringStat{Label: label, Kind: t.Meta.Kind.String()}
			for _, v := range g.values {
				st.Values = append(st.Values, fileValue{v.file, v.value.String()})
			}
			perFile = append(perFile, st)
			continue
		}
		numbers = append(numbers, numberStat{
			labelLink: link(label), Files: t.Files, Value: string(appendTotalJSON(nil, &t)),
			Policy: t.Policy.String(), How: describe(&t), Kind: t.Meta.Kind.String(), Unit: t.Meta.Unit,
		})
	}
	names := slices.Sorted(maps.Keys(aggregators))
	render(w, "graph.html", map[string]any{
		"Pattern": s.pattern(), "Numbers": numbers, "Strings": perFile, "Aggregators": names, "Policy": policyAggr,
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
