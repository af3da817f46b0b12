package tally

import "testing"

func TestGroupStart(t *testing.T) {
	cases := []struct {
		g    Group
		d    Day
		want Day
	}{
		{GroupDay, "2026-11-29", "2026-11-29"},
		{GroupWeek, "2026-11-29", "2026-11-23"}, // a Sunday: the Monday before
		{GroupWeek, "2026-11-23", "2026-11-23"}, // a Monday: itself
		{GroupWeek, "2026-01-01", "2025-12-29"}, // the week crosses the year
		{GroupMonth, "2026-11-29", "2026-11-01"},
		{GroupMonth, "2026-02-01", "2026-02-01"},
	}
	for _, c := range cases {
		if got := c.g.Start(c.d); got != c.want {
			t.Errorf("%s.Start(%s) = %s, want %s", c.g, c.d, got, c.want)
		}
	}
}

func TestParseGroup(t *testing.T) {
	for _, s := range []string{"day", "week", "month"} {
		if g, err := ParseGroup(s); err != nil || g.String() != s {
			t.Errorf("ParseGroup(%q) = %v, %v", s, g, err)
		}
	}
	for _, s := range []string{"", "year", "Week", "days"} {
		if _, err := ParseGroup(s); err == nil {
			t.Errorf("ParseGroup(%q) accepted", s)
		}
	}
}

func TestParseFromTo(t *testing.T) {
	cases := []struct {
		in       string
		from, to Day
	}{
		{"2026-11", "2026-11-01", "2026-11-30"},
		{"2024-02", "2024-02-01", "2024-02-29"}, // leap year
		{"2026-02", "2026-02-01", "2026-02-28"},
		{"2026-12", "2026-12-01", "2026-12-31"},
		{"2026-11-15", "2026-11-15", "2026-11-15"},
	}
	for _, c := range cases {
		from, err := ParseFrom(c.in)
		if err != nil || from != c.from {
			t.Errorf("ParseFrom(%q) = %s, %v; want %s", c.in, from, err, c.from)
		}
		to, err := ParseTo(c.in)
		if err != nil || to != c.to {
			t.Errorf("ParseTo(%q) = %s, %v; want %s", c.in, to, err, c.to)
		}
	}
	for _, s := range []string{"", "2026", "2026-13", "2026-1", "2026-11-31", "2026-11-1", "11/2026", "2026-11-15T00:00"} {
		if _, err := ParseFrom(s); err == nil {
			t.Errorf("ParseFrom(%q) accepted", s)
		}
		if _, err := ParseTo(s); err == nil {
			t.Errorf("ParseTo(%q) accepted", s)
		}
	}
}

func TestGroupText(t *testing.T) {
	var g Group
	if err := g.UnmarshalText([]byte("month")); err != nil || g != GroupMonth {
		t.Fatalf("UnmarshalText(month) = %v, %v", g, err)
	}
	if err := g.UnmarshalText([]byte("year")); err == nil {
		t.Fatal("UnmarshalText(year) accepted")
	}
	if b, _ := GroupWeek.MarshalText(); string(b) != "week" {
		t.Fatalf("MarshalText = %q", b)
	}
}
