package store

// PeriodStart is periodStart, for TestPeriodStartMatchesGroupStart.
var PeriodStart = periodStart
