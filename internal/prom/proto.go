package prom

import (
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// ProtoContentType is the HTTP Content-Type of the protobuf format:
// length-delimited io.prometheus.client.MetricFamily messages, which
// carry native histograms.
const ProtoContentType = string(expfmt.FmtProtoDelim)

// WantsProto reports whether a scraper's Accept header asks for the
// protobuf format before the text format 0.0.4: Prometheus does when its
// native histograms are enabled. A client that accepts anything (*/*,
// curl's default) gets text.
func WantsProto(h http.Header) bool {
	f := expfmt.NegotiateAccept(h, expfmt.FmtText, expfmt.FmtProtoDelim)
	return f.FormatType() == expfmt.TypeProtoDelim
}

// MetricFamilies returns the set as protobuf messages, in the order
// WriteTo writes them. A histogram's series has its classic buckets (as
// in the text, at s.Classic) and its native histogram: the writer's
// schema and buckets (see ClassicSchema).
func (s *Set) MetricFamilies() []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(s.families))
	for _, name := range slices.Sorted(maps.Keys(s.families)) {
		out = append(out, s.family(name))
	}
	return out
}

// family returns the message of the metric name.
func (s *Set) family(name string) *dto.MetricFamily {
	f := s.families[name]
	slices.SortFunc(f.series, func(x, y series) int { return compareLabels(x.labels, y.labels) })
	mf := &dto.MetricFamily{
		Name: proto.String(name),
		Help: proto.String(strings.ToValidUTF8(f.help, "\uFFFD")),
		Type: dtoType(f.typ),
	}
	for i := range f.series {
		sr := &f.series[i]
		m := &dto.Metric{}
		for _, l := range sr.labels {
			m.Label = append(m.Label, &dto.LabelPair{
				Name:  proto.String(l.Name),
				Value: proto.String(strings.ToValidUTF8(l.Value, "\uFFFD")),
			})
		}
		switch f.typ {
		case Histogram:
			m.Histogram = sr.hist.proto()
		case Counter:
			m.Counter = &dto.Counter{Value: proto.Float64(sr.value.Float())}
		case Gauge:
			m.Gauge = &dto.Gauge{Value: proto.Float64(sr.value.Float())}
		default:
			m.Untyped = &dto.Untyped{Value: proto.Float64(sr.value.Float())}
		}
		mf.Metric = append(mf.Metric, m)
	}
	return mf
}

// WriteProto writes the set in the protobuf format (ProtoContentType),
// one metric at a time: what it holds at once is one metric's message.
func (s *Set) WriteProto(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	enc := expfmt.NewEncoder(cw, expfmt.FmtProtoDelim)
	for _, name := range slices.Sorted(maps.Keys(s.families)) {
		if err := enc.Encode(s.family(name)); err != nil {
			return cw.n, err
		}
	}
	return cw.n, nil
}

func dtoType(t Type) *dto.MetricType {
	switch t {
	case Counter:
		return dto.MetricType_COUNTER.Enum()
	case Gauge:
		return dto.MetricType_GAUGE.Enum()
	case Histogram:
		return dto.MetricType_HISTOGRAM.Enum()
	}
	return dto.MetricType_UNTYPED.Enum()
}

// proto returns the histogram message of v: classic and native.
func (v *histValue) proto() *dto.Histogram {
	h := &dto.Histogram{
		SampleCount:   proto.Uint64(v.count),
		SampleSum:     proto.Float64(v.sum),
		Schema:        proto.Int32(v.schema),
		ZeroThreshold: proto.Float64(v.zero),
		ZeroCount:     proto.Uint64(v.zeroCount),
		PositiveDelta: v.deltas,
	}
	for j, c := range v.cum {
		h.Bucket = append(h.Bucket, &dto.Bucket{CumulativeCount: proto.Uint64(c), UpperBound: proto.Float64(v.bound(j))})
	}
	for _, sp := range v.spans {
		h.PositiveSpan = append(h.PositiveSpan, &dto.BucketSpan{Offset: proto.Int32(sp.offset), Length: proto.Uint32(sp.length)})
	}
	if len(h.PositiveSpan) == 0 {
		// No values yet: a no-op span says that this is a native
		// histogram all the same.
		h.PositiveSpan = []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}
	}
	return h
}
