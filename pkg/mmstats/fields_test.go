package mmstats_test

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

// every has one field of each type.
type every struct {
	Counter mmstats.Counter       `mmstats:"counter"`
	Average mmstats.Average       `mmstats:"average"`
	Moving  mmstats.MovingAverage `mmstats:"moving,window=3"`
	Timer   mmstats.Timer         `mmstats:"timer"`
	Bool    mmstats.Bool          `mmstats:"bool"`
	Byte    mmstats.Int8          `mmstats:"byte"`
	Short   mmstats.Int16         `mmstats:"short"`
	UShort  mmstats.Uint16        `mmstats:"ushort"`
	Int     mmstats.Int32         `mmstats:"int"`
	UInt    mmstats.Uint32        `mmstats:"uint"`
	UInt64  mmstats.Uint64        `mmstats:"uint64"`
	Float   mmstats.Float32       `mmstats:"float"`
	Double  mmstats.Float64       `mmstats:"double"`
	String  mmstats.String        `mmstats:"string"`
	Small   mmstats.String        `mmstats:"small,size=16"`
	SUInt   mmstats.StaticUint32  `mmstats:"static.uint"`
	SInt64  mmstats.StaticInt64   `mmstats:"static.int64"`
	SUInt64 mmstats.StaticUint64  `mmstats:"static.uint64"`
	SFloat  mmstats.StaticFloat32 `mmstats:"static.float"`
	SDouble mmstats.StaticFloat64 `mmstats:"static.double"`
	SText   mmstats.StaticText    `mmstats:"static.text"`
}

func (e *every) set() {
	// Tags apply when the model is added to a file; a field used before
	// that needs its options set by hand.
	e.Moving.Window = 3
	e.Small.Size = 16
	e.Counter.Add(41)
	e.Counter.Inc()
	e.Average.Observe(10)
	e.Average.Observe(50)
	for _, v := range []float64{1, 2, 3, 4} {
		e.Moving.Observe(v)
	}
	e.Timer.Observe(1500 * time.Millisecond)
	e.Bool.Set(true)
	e.Byte.Set(-5)
	e.Short.Set(-1234)
	e.UShort.Set(54321)
	e.Int.Set(-100000)
	e.UInt.Set(3000000000)
	e.UInt64.Set(1099511627783)
	e.Float.Set(0.1)
	e.Double.Set(3.14159)
	e.String.Set("hello, world")
	e.Small.Set("ünïcödé and more") // 16 bytes end inside " and"
}

func (e *every) setStatic(t *testing.T) {
	for _, err := range []error{
		e.SUInt.Set(4000000000), e.SInt64.Set(-42), e.SUInt64.Set(1 << 63),
		e.SFloat.Set(2.5), e.SDouble.Set(-0.001), e.SText.Set("static text"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

var everyWant = map[string]string{
	"counter": "42", "average": "30.0", "moving": "3.0", "timer": "1.5",
	"bool": "True", "byte": "-5", "short": "-1234", "ushort": "54321",
	"int": "-100000", "uint": "3000000000", "uint64": "1099511627783",
	"float": "0.10000000149011612", "double": "3.14159",
	"string": "hello, world", "small": "ünïcödé and ",
	"static.uint": "4000000000", "static.int64": "-42", "static.uint64": "9223372036854775808",
	"static.float": "2.5", "static.double": "-0.001", "static.text": "static text",
}

var everyTypes = map[string]string{
	"counter": "Q", "average": "d", "moving": "d", "timer": "d", "bool": "?", "byte": "b",
	"short": "h", "ushort": "H", "int": "i", "uint": "I", "uint64": "Q", "float": "f",
	"double": "d", "string": "255s", "small": "16s", "static.uint": "I", "static.int64": "q",
	"static.uint64": "Q", "static.float": "f", "static.double": "d", "static.text": "256s",
}

func readAll(t *testing.T, path string) map[string]reader.Stat {
	t.Helper()
	stats, err := reader.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]reader.Stat{}
	for _, s := range stats {
		m[s.Label] = s
	}
	return m
}

func checkEvery(t *testing.T, path, prefix string) {
	t.Helper()
	got := readAll(t, path)
	for label, want := range everyWant {
		s, ok := got[prefix+label]
		if !ok {
			t.Errorf("no field %q", prefix+label)
			continue
		}
		if s.Value.String() != want || s.Type != everyTypes[label] {
			t.Errorf("%s = %s %s, want %s %s", label, s.Type, s.Value, everyTypes[label], want)
		}
	}
}

// TestEveryFieldTypeReadsBack sets every field type after the file exists
// and reads the values back through the reader, with the type signatures
// Python writes.
func TestEveryFieldTypeReadsBack(t *testing.T) {
	var e every
	e.setStatic(t)
	f, err := mmstats.New(&e, mmstats.Options{Dir: t.TempDir(), LabelPrefix: "p."})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	e.set()
	f.Refresh() // publish the timer's derived stats now
	checkEvery(t, f.Path(), "p.")
}

// TestValuesSetBeforeNewAreKept uses the fields at their zero value before
// they are in a file: New carries the values over.
func TestValuesSetBeforeNewAreKept(t *testing.T) {
	var e every
	e.setStatic(t)
	e.set()
	f, err := mmstats.New(&e, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	checkEvery(t, f.Path(), "") // adding a timer publishes its stats once
}

// TestFieldValues checks each type's own getters, bound and unbound.
func TestFieldValues(t *testing.T) {
	for _, bound := range []bool{false, true} {
		var e every
		if bound {
			f, err := mmstats.New(&e, mmstats.Options{Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer f.Remove()
		}
		e.set()
		if e.Counter.Value() != 42 || e.Average.Value() != 30 || e.Moving.Value() != 3 ||
			e.Timer.Value() != 1.5 || e.Timer.Last() != 1500*time.Millisecond || !e.Bool.Value() ||
			e.Byte.Value() != -5 || e.Short.Value() != -1234 || e.UShort.Value() != 54321 ||
			e.Int.Value() != -100000 || e.UInt.Value() != 3000000000 || e.UInt64.Value() != 1099511627783 ||
			e.Float.Value() != 0.1 || e.Double.Value() != 3.14159 || e.String.Value() != "hello, world" ||
			e.Small.Value() != "ünïcödé and " {
			t.Errorf("bound=%v: a getter returned a wrong value: %+v", bound, &e)
		}
		e.Bool.Set(false)
		e.Counter.Set(7)
		e.Int.Add(-1)
		e.UInt.Add(1)
		e.UInt64.Add(2)
		e.Double.Add(1)
		if e.Bool.Value() || e.Counter.Value() != 7 || e.Int.Value() != -100001 || e.UInt.Value() != 3000000001 ||
			e.UInt64.Value() != 1099511627785 || e.Double.Value() != 4.14159 {
			t.Errorf("bound=%v: update methods failed", bound)
		}
	}
}

func TestWrapping(t *testing.T) {
	var c mmstats.Counter
	c.Set(math.MaxUint64)
	c.Inc()
	var i mmstats.Int32
	i.Set(math.MaxInt32)
	i.Add(1)
	if c.Value() != 0 || i.Value() != math.MinInt32 {
		t.Errorf("no wrap: %d %d", c.Value(), i.Value())
	}
}

func TestMovingAverageWindow(t *testing.T) {
	var m mmstats.MovingAverage // default window of 100
	for i := 1; i <= 250; i++ {
		m.Observe(float64(i))
		lo := max(1, i-99)
		want := float64(lo+i) / 2
		if got := m.Value(); math.Abs(got-want) > 1e-9 {
			t.Fatalf("after %d samples: %v, want %v", i, got, want)
		}
	}
	small := mmstats.MovingAverage{Window: 3}
	for _, v := range []float64{1, 2, 3, 4} {
		small.Observe(v)
	}
	if small.Value() != 3 {
		t.Errorf("window 3 over 1..4 = %v, want 3", small.Value())
	}
}

func TestTimerHelpers(t *testing.T) {
	tm := mmstats.Timer{Window: 2}
	d := tm.Time(func() { time.Sleep(2 * time.Millisecond) })
	if d < 2*time.Millisecond || tm.Last() != d || tm.Value() != d.Seconds() {
		t.Errorf("Time: %v, last %v, value %v", d, tm.Last(), tm.Value())
	}
	sw := tm.Start()
	if sw.Elapsed() < 0 {
		t.Error("negative elapsed")
	}
	d2 := sw.Stop()
	if tm.Last() != d2 || math.Abs(tm.Value()-(d.Seconds()+d2.Seconds())/2) > 1e-12 {
		t.Errorf("Stop: last %v, value %v", tm.Last(), tm.Value())
	}
	tm.Observe(time.Second)
	tm.Observe(3 * time.Second)
	if tm.Value() != 2 {
		t.Errorf("window of 2 over 1s, 3s = %v", tm.Value())
	}
}

func TestStringTruncatesAtCharacterBoundary(t *testing.T) {
	tests := []struct {
		size int
		in   string
		want string
	}{
		{4, "abcdef", "abcd"},
		{4, "abc", "abc"},
		{4, "aé€", "aé"}, // € (3 bytes) would not fit
		{3, "ééé", "é"},  // é is 2 bytes
		{2, "€", ""},     // nothing fits
		{5, "a\U0001F600", "a\U0001F600"},
		{4, "a\U0001F600", "a"},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		s := mmstats.String{Size: tt.size}
		s.Set(tt.in)
		if s.Value() != tt.want {
			t.Errorf("unbound String of size %d holds %q, want %q", tt.size, s.Value(), tt.want)
		}
		f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "s" + string(rune('a'+i)) + ".mmstats"})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Add("s", &s); err != nil {
			t.Fatal(err)
		}
		if s.Value() != tt.want {
			t.Errorf("size %d, %q: got %q, want %q", tt.size, tt.in, s.Value(), tt.want)
		}
		s.Set(tt.in)
		if got := readAll(t, f.Path())["s"].Value.Str(); got != tt.want {
			t.Errorf("size %d, %q: file has %q, want %q", tt.size, tt.in, got, tt.want)
		}
		f.Remove()
	}
}

func TestStaticFieldsAreWriteOnce(t *testing.T) {
	var s struct {
		V mmstats.StaticUint32  `mmstats:"v"`
		T mmstats.StaticText    `mmstats:"t"`
		D mmstats.StaticFloat64 `mmstats:"d"`
	}
	s.V.Set(1)
	s.T.Set(strings.Repeat("é", 200)) // 400 bytes: cut to 256
	f, err := mmstats.New(&s, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if err := s.V.Set(2); !errors.Is(err, mmstats.ErrStatic) {
		t.Errorf("Set after New = %v, want ErrStatic", err)
	}
	got := readAll(t, f.Path())
	if got["v"].Value.Uint() != 1 || s.V.Value() != 1 {
		t.Errorf("static value changed: %v", got["v"].Value)
	}
	if txt := got["t"].Value.Str(); txt != strings.Repeat("é", 128) || s.T.Value() != txt {
		t.Errorf("static text = %d bytes", len(txt))
	}
}

func TestModelErrors(t *testing.T) {
	var notStruct int
	var badOption struct {
		C mmstats.Counter `mmstats:"c,size=3"`
	}
	var badWindow struct {
		M mmstats.MovingAverage `mmstats:"m,window=0"`
	}
	var wrongType struct {
		X int `mmstats:"x"`
	}
	var dup struct {
		A mmstats.Counter `mmstats:"same"`
		B mmstats.Counter `mmstats:"same"`
	}
	var clash struct {
		P mmstats.Counter `mmstats:"sys.pid"`
	}
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		model any
		want  error
	}{
		"nil pointer":   {(*struct{})(nil), mmstats.ErrModel},
		"not a struct":  {&notStruct, mmstats.ErrModel},
		"value":         {struct{ X int }{}, mmstats.ErrModel},
		"bad option":    {&badOption, mmstats.ErrModel},
		"bad window":    {&badWindow, mmstats.ErrModel},
		"tag on int":    {&wrongType, mmstats.ErrModel},
		"duplicate":     {&dup, mmstats.ErrDuplicateLabel},
		"default clash": {&clash, mmstats.ErrDuplicateLabel},
	} {
		f, err := mmstats.New(tc.model, mmstats.Options{Dir: dir})
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: New = %v, want %v", name, err, tc.want)
		}
		if f != nil {
			f.Remove()
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed New left files: %v", entries)
	}
}

func TestModelTagsAndPointers(t *testing.T) {
	var m struct {
		Plain   mmstats.Counter
		Ptr     *mmstats.Counter `mmstats:"ptr"`
		Skipped mmstats.Counter  `mmstats:"-"`
		Other   string
		hidden  mmstats.Counter
	}
	f, err := mmstats.New(&m, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	m.Ptr.Add(2)
	m.Plain.Add(1)
	got := readAll(t, f.Path())
	if got["Plain"].Value.Uint() != 1 || got["ptr"].Value.Uint() != 2 {
		t.Errorf("got %v", got)
	}
	if _, ok := got["Skipped"]; ok {
		t.Error("field tagged - was added")
	}
	if _, ok := got["hidden"]; ok {
		t.Error("unexported field was added")
	}
	if m.hidden.Value() != 0 {
		t.Error("unexported field touched")
	}
}

func TestFieldLivesInOneFile(t *testing.T) {
	var c mmstats.Counter
	a, err := mmstats.New(nil, mmstats.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Remove()
	if err := a.Add("c", &c); err != nil {
		t.Fatal(err)
	}
	if err := a.Add("c2", &c); !errors.Is(err, mmstats.ErrAlreadyAdded) {
		t.Errorf("second Add = %v, want ErrAlreadyAdded", err)
	}
	var d mmstats.Counter
	if err := a.Add("c", &d); !errors.Is(err, mmstats.ErrDuplicateLabel) {
		t.Errorf("duplicate label = %v", err)
	}
	if err := a.Add("", &d); !errors.Is(err, mmstats.ErrEmptyLabel) {
		t.Errorf("empty label = %v", err)
	}
	if err := a.Add("d", &d); err != nil {
		t.Errorf("a field whose Add failed cannot be added again: %v", err)
	}
}
