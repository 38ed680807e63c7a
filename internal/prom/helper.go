package prom

// A Helper is a goroutine kept to work beside its owner's for the
// owner's life: AppendGzipWith gives it pieces of the text to make and
// compress while the caller makes others, and a server can give it half
// of what it reads. Handing it a job wakes a goroutine that is there
// already, where starting goroutines at every scrape costs their start
// and the runtime's wake-ups around them (a scrape of a thousand files
// started three).
//
// A Helper runs one job at a time: Start, then Wait before the next
// Start. It is for one owner (not safe for concurrent use); Close ends
// its goroutine.
type Helper struct {
	jobs chan Job
	done chan any
}

// A Job is work for a Helper.
type Job interface{ Run() }

// NewHelper starts a Helper's goroutine.
func NewHelper() *Helper {
	// Buffered: Start returns at once, and the goroutine hands its
	// result over without waiting for Wait.
	h := &Helper{jobs: make(chan Job, 1), done: make(chan any, 1)}
	go helperLoop(h.jobs, h.done)
	return h
}

// helperLoop is the goroutine of a Helper, until its jobs are closed. It
// keeps nothing of a job once it ran.
func helperLoop(jobs <-chan Job, done chan<- any) {
	for j := range jobs {
		done <- runJob(j)
	}
}

// runJob runs j and returns its panic, if it panicked.
func runJob(j Job) (failed any) {
	defer func() { failed = recover() }()
	j.Run()
	return nil
}

// Start runs j on the helper's goroutine.
func (h *Helper) Start(j Job) { h.jobs <- j }

// Wait waits for the job started to end, and returns what it panicked
// with (nil if it did not): the owner's to panic with.
func (h *Helper) Wait() any { return <-h.done }

// Close ends the helper's goroutine, once its job (if any) is done; the
// Helper is not used after.
func (h *Helper) Close() { close(h.jobs) }
