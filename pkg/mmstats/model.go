package mmstats

import (
	"fmt"
	"reflect"
	"strings"
)

// modelError returns an error wrapping ErrModel.
func modelError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrModel, fmt.Sprintf(format, args...))
}

var fieldType = reflect.TypeFor[Field]()

// labeled is a field with its label and tag options, ready to be added.
type labeled struct {
	label string
	field Field
	opts  fieldOptions
}

// modelFields returns the fields of model, a pointer to a struct whose
// fields are field types (or pointers to them, allocated if nil), in
// declaration order. The tag `mmstats:"label,key=value,..."` sets the
// label (default: the Go field name) and options (size=N for String,
// window=N for MovingAverage, Histogram and Timer, windows=10s|1m for
// Counter, Histogram and Timer, and for every field kind=counter|gauge|
// timestamp|info and unit=seconds|bytes|...); `mmstats:"-"` skips a field.
// Struct fields of other types are ignored.
func modelFields(model any) ([]labeled, error) {
	v := reflect.ValueOf(model)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil, modelError("want a non-nil pointer to a struct, got %T", model)
	}
	v = v.Elem()
	t := v.Type()
	var out []labeled
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("mmstats")
		if tag == "-" || !sf.IsExported() {
			continue
		}
		fv := v.Field(i)
		var f Field
		switch {
		case reflect.PointerTo(sf.Type).Implements(fieldType):
			f = fv.Addr().Interface().(Field)
		case sf.Type.Kind() == reflect.Pointer && sf.Type.Implements(fieldType):
			if fv.IsNil() {
				fv.Set(reflect.New(sf.Type.Elem()))
			}
			f = fv.Interface().(Field)
		default:
			if tag != "" {
				return nil, modelError("field %s has an mmstats tag but type %s is not a field type", sf.Name, sf.Type)
			}
			continue
		}
		label, opts, _ := strings.Cut(tag, ",")
		if label == "" {
			label = sf.Name
		}
		var fo fieldOptions
		if opts != "" {
			for _, opt := range strings.Split(opts, ",") {
				key, value, ok := strings.Cut(opt, "=")
				if !ok {
					return nil, modelError("field %s: tag option %q is not key=value", sf.Name, opt)
				}
				if handled, err := fo.tagOption(key, value); handled {
					if err != nil {
						return nil, fmt.Errorf("field %s: %w", sf.Name, err)
					}
					continue
				}
				setter, can := f.(optionSetter)
				if !can {
					return nil, modelError("field %s: unknown tag option %q", sf.Name, opt)
				}
				if err := setter.setOption(key, value); err != nil {
					return nil, fmt.Errorf("field %s: %w", sf.Name, err)
				}
			}
		}
		out = append(out, labeled{label: label, field: f, opts: fo})
	}
	return out, nil
}
