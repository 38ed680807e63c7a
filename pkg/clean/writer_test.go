package clean

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

func TestParseWriter(t *testing.T) {
	py := pythonFields(4242, 1000, 1.7e9)
	tests := []struct {
		name string
		data []byte
		want Writer
		err  error
	}{
		{name: "python defaults", data: v1(py...),
			want: Writer{PID: 4242, HasPID: true, UID: 1000, HasUID: true, Created: 1.7e9, HasCreated: true}},
		{name: "label prefix", data: v1(
			field{label: "myapp.sys.pid", typ: "I", value: u32(7)},
			field{label: "myapp.sys.flock", typ: "?", value: []byte{1}}),
			want: Writer{PID: 7, HasPID: true, Flock: true}},
		{name: "only sys.pid", data: v1(field{label: "sys.pid", typ: "I", value: u32(9)}),
			want: Writer{PID: 9, HasPID: true}},
		{name: "the last sys.pid counts, as in 0.8.0", data: v1(
			field{label: "sys.pid", typ: "I", value: u32(1)},
			field{label: "other.sys.pid", typ: "I", value: u32(2)}),
			want: Writer{PID: 2, HasPID: true}},
		{name: "double-buffered pid reads buffers[wb^1]", data: v1(
			field{label: "sys.pid", typ: "I", buffered: true, wb: 0, value: append(u32(1), u32(55)...)}),
			want: Writer{PID: 55, HasPID: true}},
		{name: "signed pid", data: v1(field{label: "sys.pid", typ: "i", value: u32(math.MaxUint32)}),
			want: Writer{PID: -1, HasPID: true}},
		{name: "no sys.pid", data: v1(py[1:]...),
			want: Writer{UID: 1000, HasUID: true, Created: 1.7e9, HasCreated: true}},
		{name: "string sys.pid", data: v1(field{label: "sys.pid", typ: "8s", value: str("4242", 8)}), err: ErrBadPID},
		{name: "pid beyond int64", data: v1(field{label: "sys.pid", typ: "Q", value: u64(math.MaxUint64)}),
			want: Writer{PID: math.MaxInt64, HasPID: true}, err: ErrBadPID},
		{name: "NaN created is no created", data: v1(
			field{label: "sys.pid", typ: "I", value: u32(3)},
			field{label: "sys.created", typ: "d", value: f64(math.NaN())}),
			want: Writer{PID: 3, HasPID: true}},
		{name: "negative created is no created", data: v1(
			field{label: "sys.pid", typ: "I", value: u32(3)},
			field{label: "sys.created", typ: "d", value: f64(-5)}),
			want: Writer{PID: 3, HasPID: true}},
		{name: "string uid is no uid", data: v1(
			field{label: "sys.pid", typ: "I", value: u32(3)},
			field{label: "sys.uid", typ: "4s", value: str("root", 4)}),
			want: Writer{PID: 3, HasPID: true}},
		{name: "sys.flock false is no marker", data: v1(
			field{label: "sys.pid", typ: "I", value: u32(3)},
			field{label: "sys.flock", typ: "?", value: []byte{0}}),
			want: Writer{PID: 3, HasPID: true}},
		{name: "sys.flock must be a bool", data: v1(
			field{label: "sys.pid", typ: "I", value: u32(3)},
			field{label: "sys.flock", typ: "B", value: []byte{1}}),
			want: Writer{PID: 3, HasPID: true}},
		{name: "not v1", data: append([]byte{2}, make([]byte, 4095)...), err: reader.ErrVersion},
		{name: "empty", data: nil, err: reader.ErrEmpty},
		{name: "text", data: []byte("hello, world\n"), err: reader.ErrVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := parseWriter(tt.data)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if w != tt.want {
				t.Errorf("got %+v, want %+v", w, tt.want)
			}
		})
	}
}

// TestParseGoWriter reads the defaults of a file the Go writer made.
func TestParseGoWriter(t *testing.T) {
	dir := t.TempDir()
	f, err := mmstats.New(nil, mmstats.Options{Path: dir, Filename: "go.mmstats", LabelPrefix: "app."})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	data, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	w, err := parseWriter(data)
	if err != nil {
		t.Fatal(err)
	}
	if !w.Flock || w.PID != int64(os.Getpid()) || w.UID != uint64(os.Getuid()) || !w.HasCreated || w.Created < now()-60 {
		t.Errorf("got %+v", w)
	}
}

// TestLoadLarge checks that fields past the first read are found, and
// that a file whose fields never end within maxRead is refused.
func TestLoadLarge(t *testing.T) {
	dir := t.TempDir()
	big := v1(
		field{label: "big", typ: "200000s", value: str("x", 200000)},
		field{label: "sys.pid", typ: "I", value: u32(77)},
	)
	r := (&Cleaner{}).start()
	defer r.close()
	load := func(path string) (Writer, error, error) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		st, _ := f.Stat()
		return r.load(int(f.Fd()), st.Size())
	}
	w, ioErr, err := load(write(t, dir, "big.mmstats", big))
	if ioErr != nil || err != nil || w.PID != 77 {
		t.Errorf("big file: %+v, %v, %v", w, ioErr, err)
	}

	// A sparse file whose only field claims more than maxRead bytes.
	huge := filepath.Join(dir, "huge.mmstats")
	head := v1(field{label: "x", typ: "80000000s"}) // the value is the rest of the file
	if err := os.WriteFile(huge, head, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 100<<20); err != nil {
		t.Fatal(err)
	}
	if _, ioErr, err := load(huge); ioErr != nil || !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge file: %v, %v; want ErrTooLarge", ioErr, err)
	}
}
