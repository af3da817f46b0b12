package demo

import (
	"fmt"
	"time"
)

// demoCampaign is one line of the demo's sample plan: on each sample day,
// visitors first..first+n-1 send event via source for campaign.
type demoCampaign struct {
	source, campaign, event string
	first, n                int
}

// The plan shows each part of the gate: cells at or above min_count (11)
// are released; LinkedIn's 5 a day are held and carried until day three;
// the 3 a day without a source (platform none) never reach 11.
var demoPlan = []demoCampaign{
	{"facebook", "spring_checkup", "appointment_booked", 1, 14},
	{"google", "flu_shots", "appointment_booked", 15, 12},
	{"tiktok", "new_clinic", "contact_form_submitted", 27, 11},
	{"linkedin", "careers_fair", "contact_form_submitted", 38, 5},
	{"", "", "contact_form_submitted", 43, 3},
}

// Visitors 1..60 consent ten days ago; visitor 59 withdraws before the
// second sample day; visitors 61..64 never consent.
const (
	demoConsenting = 60
	demoWithdrawer = 59
)

func demoVisitor(i int) string { return fmt.Sprintf("demo-visitor-%03d", i) }

// demoDays are the three sample days: finished and due for sealing.
func demoDays(now time.Time) []time.Time {
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return []time.Time{today.AddDate(0, 0, -4), today.AddDate(0, 0, -3), today.AddDate(0, 0, -2)}
}

func demoConsents(now time.Time) []map[string]any {
	var out []map[string]any
	for i := 1; i <= demoConsenting; i++ {
		out = append(out, map[string]any{"visitor_id": demoVisitor(i), "purposes": map[string]bool{"advertising": true},
			"time": now.AddDate(0, 0, -10).Format(time.RFC3339), "source": "cmp", "version": "policy-v3"})
	}
	out = append(out, map[string]any{"visitor_id": demoVisitor(demoWithdrawer), "purposes": map[string]bool{"advertising": false},
		"time": demoDays(now)[1].Format(time.RFC3339), "source": "cmp", "version": "policy-v3"})
	return out
}

// demoBatch is one POST /v1/events body, optionally sent with Sec-GPC: 1.
type demoBatch struct {
	events []map[string]any
	gpc    bool
}

// demoEvent is a sample event carrying the kind of personal data a real
// booking page would send: all of it is discarded at the door.
func demoEvent(id, name string, visitor int, at time.Time, source, campaign string) map[string]any {
	ev := map[string]any{
		"event_id": id, "event": name, "visitor_id": demoVisitor(visitor), "time": at.Format(time.RFC3339),
		"email":      fmt.Sprintf("patient%03d@example.org", visitor),
		"phone":      fmt.Sprintf("+1-555-01%02d", visitor%100),
		"url":        "https://www.example-clinic.org/oncology/book?name=Jane+Doe&dob=1970-01-01",
		"user_agent": "Mozilla/5.0 (demo)",
		"ip":         "198.51.100.7",
		"properties": map[string]any{"reason_for_visit": "follow-up after biopsy"},
	}
	if source != "" {
		ev["source"] = source
	}
	if campaign != "" {
		ev["campaign"] = campaign
	}
	return ev
}

func demoEvents(now time.Time) []demoBatch {
	var batches []demoBatch
	for d, day := range demoDays(now) {
		var evs []map[string]any
		at := func(i int) time.Time { return day.Add(9*time.Hour + time.Duration(i)*7*time.Minute) }
		for _, c := range demoPlan {
			for v := c.first; v < c.first+c.n; v++ {
				evs = append(evs, demoEvent(fmt.Sprintf("demo-%d-%d-%s", d, v, c.event), c.event, v, at(v), c.source, c.campaign))
			}
		}
		// The withdrawer books every day: counted on day one only.
		evs = append(evs, demoEvent(fmt.Sprintf("demo-%d-w", d), "appointment_booked", demoWithdrawer, at(50), "facebook", "spring_checkup"))
		// Visitors without any consent record.
		for v := demoConsenting + 1; v <= demoConsenting+4; v++ {
			evs = append(evs, demoEvent(fmt.Sprintf("demo-%d-%d-nc", d, v), "appointment_booked", v, at(v), "facebook", "spring_checkup"))
		}
		if d == 0 {
			// An event name with health detail is not in [events]; a
			// campaign holding an email fails intake.campaign_pattern; a
			// resent event is a duplicate.
			evs = append(evs,
				demoEvent("demo-lab-1", "lab_result_viewed", 1, at(1), "facebook", "spring_checkup"),
				demoEvent("demo-lab-2", "lab_result_viewed", 2, at(2), "google", "flu_shots"),
				demoEvent("demo-bad-campaign", "appointment_booked", 3, at(3), "facebook", "jane.doe@example.org"),
				evs[0])
		}
		batches = append(batches, demoBatch{events: evs})
	}
	// A browser with Global Privacy Control on: dropped whatever it says.
	day := demoDays(now)[2]
	batches = append(batches, demoBatch{gpc: true, events: []map[string]any{
		demoEvent("demo-gpc-1", "appointment_booked", 50, day.Add(10*time.Hour), "facebook", "spring_checkup"),
		demoEvent("demo-gpc-2", "appointment_booked", 51, day.Add(11*time.Hour), "facebook", "spring_checkup"),
	}})
	return batches
}
