package intake

// New wires p to a writer over db and counts both in fresh metrics. After
// every commit, before anything is acknowledged, the writer checks that
// the database file at path is still the one it opened: events committed
// into a deleted or replaced file would be acknowledged and lost. opt's
// OnCommit and Verify are set here. Close the intake's Writer when done.
func New(p *Pipeline, db IntakeStore, path string, opt WriterOptions) (*Intake, error) {
	guard, err := NewFileGuard(path)
	if err != nil {
		return nil, err
	}
	m := NewMetrics()
	p.Metrics = m
	opt.OnCommit, opt.Verify = m.ObserveCommit, guard.Check
	return &Intake{Pipeline: p, Writer: NewWriter(db, p.Rules(), opt), Consents: db, Metrics: m}, nil
}

// IntakeStore is the database an Intake writes: events through the
// writer, consents carried by events directly.
type IntakeStore interface {
	IntakeCommitter
	ConsentStore
}
