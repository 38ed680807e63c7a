package demo

import "github.com/mmstats/mmstats/pkg/mmstats"

// LabelPrefix is the prefix of every label in a demo worker's file, as in
// the WebStats example of the mmstats documentation.
const LabelPrefix = "web.stats."

// FilenameTemplate names each worker's stats file. The TID makes the name
// Python-compatible, and lets File.Remove find the process's files.
const FilenameTemplate = "mmstats-demo-{PID}-{TID}.mmstats"

// WebStats is the stats model of a demo worker: the documentation's
// WebStats (responses by status class and the time of the last hit) plus a
// request timer, a busy flag and the last path requested. Its zero value
// works in memory, so handlers can be tested without a file.
type WebStats struct {
	// Responses by status class; the 2XX counter also publishes its rate
	// over the last 10 s and minute (status.2XX.rate10s, .rate1m).
	Status2XX mmstats.Counter `mmstats:"status.2XX,windows=10s|1m"`
	Status3XX mmstats.Counter `mmstats:"status.3XX"`
	Status4XX mmstats.Counter `mmstats:"status.4XX"`
	Status5XX mmstats.Counter `mmstats:"status.5XX"`
	// LastHit is the UNIX time of the last request, in seconds.
	LastHit mmstats.Float64 `mmstats:"timers.last_hit,kind=timestamp,unit=seconds"`
	// Request times the answers, in seconds: the moving average of the last
	// 100, and timers.request.count, .p50, .p90, .p99, .p999, .rate1m...
	Request mmstats.Timer `mmstats:"timers.request"`
	// Working is true while at least one request is being handled.
	Working mmstats.Bool `mmstats:"working"`
	// LastPath is the path of the last request, cut to 64 bytes.
	LastPath mmstats.String `mmstats:"last_path,size=64"`
}

// countStatus counts one response with status code in its class; codes
// outside 2XX-5XX are not counted.
func (s *WebStats) countStatus(code int) {
	switch code / 100 {
	case 2:
		s.Status2XX.Inc()
	case 3:
		s.Status3XX.Inc()
	case 4:
		s.Status4XX.Inc()
	case 5:
		s.Status5XX.Inc()
	}
}
