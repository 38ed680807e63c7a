// Package apicheck records the public API of the project's public
// packages, as the Go project's api/*.txt files record the standard
// library's: one line per exported declaration, sorted, in api/<pkg>.txt.
// Its test fails when an exported name, signature, field or constant
// changes without the file changing too, so an API change is always a
// visible, reviewed diff:
//
//	go test ./internal/tools/apicheck            # check
//	go test ./internal/tools/apicheck -update    # accept the change
package apicheck

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Packages are the public packages whose API is recorded, by directory
// from the module root.
var Packages = []string{"pkg/mmstats", "pkg/reader", "pkg/clean", "pkg/aggregate"}

// API returns the exported declarations of the package in dir (every
// build constraint: what one system's files export is API too), one per
// line, sorted and without duplicates.
func API(dir string) ([]string, error) {
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var lines []string
	add := func(pkg, s string) {
		s = pkg + ", " + strings.Join(strings.Fields(s), " ")
		if !seen[s] {
			seen[s] = true
			lines = append(lines, s)
		}
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		pkg := "pkg " + f.Name.Name
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
					continue
				}
				add(pkg, source(fset, &ast.FuncDecl{Recv: d.Recv, Name: d.Name, Type: d.Type}))
			case *ast.GenDecl:
				for _, s := range d.Specs {
					for _, l := range specLines(fset, d.Tok, s) {
						add(pkg, l)
					}
				}
			}
		}
	}
	sort.Strings(lines)
	return lines, nil
}

// specLines returns the lines of one type, const or var spec: a type with
// its exported fields or methods, each exported name of a const or var
// with its type and value.
func specLines(fset *token.FileSet, tok token.Token, s ast.Spec) []string {
	switch s := s.(type) {
	case *ast.TypeSpec:
		if !s.Name.IsExported() {
			return nil
		}
		head := "type " + s.Name.Name + " "
		if s.Assign.IsValid() {
			head += "= "
		}
		switch t := s.Type.(type) {
		case *ast.StructType:
			out := []string{head + "struct"}
			for _, f := range t.Fields.List {
				typ := source(fset, f.Type)
				if len(f.Names) == 0 { // embedded
					if ast.IsExported(strings.TrimPrefix(typ, "*")) {
						out = append(out, head+"struct, embedded "+typ)
					}
					continue
				}
				for _, n := range f.Names {
					if n.IsExported() {
						out = append(out, head+"struct, "+n.Name+" "+typ)
					}
				}
			}
			return out
		case *ast.InterfaceType:
			out := []string{head + "interface"}
			for _, m := range t.Methods.List {
				for _, n := range m.Names {
					if n.IsExported() {
						out = append(out, head+"interface, "+n.Name+strings.TrimPrefix(source(fset, m.Type), "func"))
					} else {
						out = append(out, head+"interface, unexported methods")
					}
				}
			}
			return out
		}
		return []string{head + source(fset, s.Type)}
	case *ast.ValueSpec:
		var out []string
		for i, n := range s.Names {
			if !n.IsExported() {
				continue
			}
			l := tok.String() + " " + n.Name
			if s.Type != nil {
				l += " " + source(fset, s.Type)
			}
			if i < len(s.Values) {
				l += " = " + source(fset, s.Values[i])
			}
			out = append(out, l)
		}
		return out
	}
	return nil
}

func exportedRecv(recv *ast.FieldList) bool {
	if len(recv.List) == 0 {
		return false
	}
	t := recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if idx, ok := t.(*ast.IndexExpr); ok {
		t = idx.X
	}
	id, ok := t.(*ast.Ident)
	return ok && id.IsExported()
}

func source(fset *token.FileSet, n any) string {
	var b bytes.Buffer
	printer.Fprint(&b, fset, n)
	return b.String()
}

// Write writes the API of the package in dir to file.
func Write(dir, file string) error {
	lines, err := API(dir)
	if err != nil {
		return err
	}
	return os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}
