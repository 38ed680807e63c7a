//go:build unix

package clean

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mmstats/mmstats/internal/testutil"
	"github.com/mmstats/mmstats/internal/testutil/v1file"
	"github.com/mmstats/mmstats/pkg/mmstats"
	"github.com/mmstats/mmstats/pkg/reader"
)

func TestParseWriter(t *testing.T) {
	py := v1file.PythonFields(4242, 1000, 1.7e9)
	tests := []struct {
		name string
		data []byte
		want Writer
		err  error
	}{
		{name: "python defaults", data: v1file.Bytes(4096, py...),
			want: Writer{PID: 4242, HasPID: true, UID: 1000, HasUID: true, Created: 1.7e9, HasCreated: true}},
		{name: "label prefix", data: v1file.Bytes(4096,
			v1file.Unbuffered("myapp.sys.pid", "I", v1file.U32(7)),
			v1file.Unbuffered("myapp.sys.flock", "?", []byte{1})),
			want: Writer{PID: 7, HasPID: true, Flock: true}},
		{name: "only sys.pid", data: v1file.Bytes(4096, v1file.Unbuffered("sys.pid", "I", v1file.U32(9))),
			want: Writer{PID: 9, HasPID: true}},
		{name: "the last sys.pid counts, as in 0.8.0", data: v1file.Bytes(4096,
			v1file.Unbuffered("sys.pid", "I", v1file.U32(1)),
			v1file.Unbuffered("other.sys.pid", "I", v1file.U32(2))),
			want: Writer{PID: 2, HasPID: true}},
		{name: "double-buffered pid reads buffers[wb^1]", data: v1file.Bytes(4096,
			v1file.Field{Label: "sys.pid", Type: "I", WriteBuffer: 0, Value: append(v1file.U32(1), v1file.U32(55)...)}),
			want: Writer{PID: 55, HasPID: true}},
		{name: "signed pid", data: v1file.Bytes(4096, v1file.Unbuffered("sys.pid", "i", v1file.U32(math.MaxUint32))),
			want: Writer{PID: -1, HasPID: true}},
		{name: "no sys.pid", data: v1file.Bytes(4096, py[1:]...),
			want: Writer{UID: 1000, HasUID: true, Created: 1.7e9, HasCreated: true}},
		{name: "string sys.pid", data: v1file.Bytes(4096, v1file.Unbuffered("sys.pid", "8s", v1file.Str("4242", 8))), err: ErrBadPID},
		{name: "pid beyond int64", data: v1file.Bytes(4096, v1file.Unbuffered("sys.pid", "Q", v1file.U64(math.MaxUint64))),
			want: Writer{PID: math.MaxInt64, HasPID: true}, err: ErrBadPID},
		{name: "NaN created is no created", data: v1file.Bytes(4096,
			v1file.Unbuffered("sys.pid", "I", v1file.U32(3)),
			v1file.Unbuffered("sys.created", "d", v1file.F64(math.NaN()))),
			want: Writer{PID: 3, HasPID: true}},
		{name: "negative created is no created", data: v1file.Bytes(4096,
			v1file.Unbuffered("sys.pid", "I", v1file.U32(3)),
			v1file.Unbuffered("sys.created", "d", v1file.F64(-5))),
			want: Writer{PID: 3, HasPID: true}},
		{name: "string uid is no uid", data: v1file.Bytes(4096,
			v1file.Unbuffered("sys.pid", "I", v1file.U32(3)),
			v1file.Unbuffered("sys.uid", "4s", v1file.Str("root", 4))),
			want: Writer{PID: 3, HasPID: true}},
		{name: "sys.flock false is no marker", data: v1file.Bytes(4096,
			v1file.Unbuffered("sys.pid", "I", v1file.U32(3)),
			v1file.Unbuffered("sys.flock", "?", []byte{0})),
			want: Writer{PID: 3, HasPID: true}},
		{name: "sys.flock must be a bool", data: v1file.Bytes(4096,
			v1file.Unbuffered("sys.pid", "I", v1file.U32(3)),
			v1file.Unbuffered("sys.flock", "B", []byte{1})),
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
	f, err := mmstats.New(nil, mmstats.Options{Dir: dir, Filename: "go.mmstats", LabelPrefix: "app."})
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
	if !w.Flock || w.PID != int64(os.Getpid()) || w.UID != uint64(os.Getuid()) || !w.HasCreated || w.Created < testutil.Now()-60 {
		t.Errorf("got %+v", w)
	}
}

// TestLoadLarge checks that fields past the first read are found, and
// that a file whose fields never end within maxRead is refused.
func TestLoadLarge(t *testing.T) {
	dir := t.TempDir()
	big := v1file.Bytes(4096,
		v1file.Unbuffered("big", "200000s", v1file.Str("x", 200000)),
		v1file.Unbuffered("sys.pid", "I", v1file.U32(77)),
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
		return r.ld.load(int(f.Fd()), st.Size(), path)
	}
	w, ioErr, err := load(testutil.WriteFile(t, dir, "big.mmstats", big))
	if ioErr != nil || err != nil || w.PID != 77 {
		t.Errorf("big file: %+v, %v, %v", w, ioErr, err)
	}

	// A sparse file whose only field claims more than maxRead bytes.
	huge := filepath.Join(dir, "huge.mmstats")
	head := v1file.Bytes(4096, v1file.Unbuffered("x", "80000000s", nil)) // the value is the rest of the file
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

// parseWriter parses a v1 file's bytes and returns what it says about its
// writer. A file that is not valid v1 gives the reader's error; a sys.pid
// that is not an integer gives ErrBadPID.
func parseWriter(data []byte) (Writer, error) {
	w, _, scanErr, err := scanWriter(data)
	if scanErr != nil {
		return Writer{}, scanErr
	}
	return w, err
}
