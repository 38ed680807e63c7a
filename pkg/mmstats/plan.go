package mmstats

import (
	"fmt"

	"github.com/mmstats/mmstats/pkg/reader"
)

// planned is a field laid out at its place in the file: its parts (one
// v1 field each), their full labels and placements.
type planned struct {
	field  Field
	labels []string
	parts  []part
	places []placement
}

// plan lays out field under label (after the label prefix) from offset
// off. taken holds the labels already planned in this batch.
func (f *File) plan(label string, field Field, o fieldOptions, off int, taken map[string]bool) (*planned, error) {
	label = f.opts.LabelPrefix + label
	p := &planned{field: field}
	switch fl := field.(type) {
	case composite:
		parts, err := fl.parts(o)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", label, err)
		}
		p.parts = parts
	case simple:
		s := fl.spec()
		p.parts = []part{{spec: s, meta: o.metaOf(s)}}
	default:
		return nil, modelError("field %q: %T is not a field type of this package", label, field)
	}
	if len(p.parts) > 1 {
		p.parts[0].meta.Role = reader.GroupHead
		for i := 1; i < len(p.parts); i++ {
			p.parts[i].meta.Role = reader.GroupMember
		}
	}
	for _, pt := range p.parts {
		l := label + pt.suffix
		if f.labels[l] || taken[l] {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateLabel, l)
		}
		taken[l] = true
		pl, err := place(off, l, pt.spec, pt.meta)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", l, err)
		}
		p.labels = append(p.labels, l)
		p.places = append(p.places, pl)
		off = pl.end
	}
	return p, nil
}

// end returns the offset just past the field's last part.
func (p *planned) end() int { return p.places[len(p.places)-1].end }

// write writes every part's header and the initial values. With
// deferFirst, the first part's label size stays 0, the end of the list,
// until publishWord stores it.
func (p *planned) write(mem []byte, deferFirst bool) {
	for i := range p.parts {
		writeHeader(mem, p.places[i], p.labels[i], p.parts[i].spec.buffered, deferFirst && i == 0)
	}
	switch fl := p.field.(type) {
	case composite:
		fl.initialParts(mem, p.places)
	case simple:
		fl.initial(mem, p.places[0])
	}
}

// bind makes the field write to the file.
func (p *planned) bind(f *File, mem []byte) {
	switch fl := p.field.(type) {
	case composite:
		fl.bindParts(f, mem, p.places)
	case simple:
		fl.bind(mem, p.places[0])
	}
}
