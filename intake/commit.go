package intake

import (
	"context"

	"github.com/tally-health/tally"
	"github.com/tally-health/tally/store"
)

// IntakeCommitter runs the writer's decisions in one transaction and
// commits them (group commit).
type IntakeCommitter interface {
	WriteIntake(ctx context.Context, fn func(*store.IntakeTx) error) error
}

// Write is one acknowledged unit (an HTTP request or a file chunk): its
// candidate events and the outcomes already counted without the writer
// (invalid events).
type Write struct {
	Candidates []Candidate
	Counts     Counts
}

// events is how many of w's candidates the writer takes to the database:
// the queue bounds and the commit sizes count these. Under GPC an event
// is dropped before any lookup.
func (w *Write) events() int {
	n := 0
	for _, c := range w.Candidates {
		if !c.GPC {
			n++
		}
	}
	return n
}

// Counts are outcomes counted by day and decision. Each outcome is counted
// once, by the writer as it decides (or by Process for invalid events),
// and every tally of them reads these: intake_outcomes, the response's
// Summary, the intake audit summary and the Prometheus metrics.
type Counts map[DayDecision]int

// DayDecision names one intake_outcomes row.
type DayDecision struct {
	Day tally.Day
	tally.Decision
}

// Add counts n events decided d on day.
func (c Counts) Add(day tally.Day, d tally.Decision, n int) {
	c[DayDecision{Day: day, Decision: d}] += n
}

// AddAll adds o's counts to c.
func (c Counts) AddAll(o Counts) {
	for k, n := range o {
		c[k] += n
	}
}

// decideGroup decides every candidate of group inside tx, counts each
// outcome once into its job's Counts, and adds the group's total to
// intake_outcomes.
func (w *Writer) decideGroup(ctx context.Context, tx Tx, group []*job) (Counts, error) {
	total := Counts{}
	for _, j := range group {
		j.counts = Counts{}
		j.counts.AddAll(j.w.Counts)
		for _, c := range j.w.Candidates {
			d, err := decide(ctx, tx, w.rules, c)
			if err != nil {
				return nil, err
			}
			j.counts.Add(c.Day, d, 1)
		}
		total.AddAll(j.counts)
	}
	for k, n := range total {
		if err := tx.Count(ctx, k.Day, k.Decision, n); err != nil {
			return nil, err
		}
	}
	return total, nil
}
