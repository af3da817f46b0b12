package tally_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/tally-health/tally"
)

// TestSecretNeverPrints: a Secret shows "[redacted]" in every format a log
// line, an error or a JSON document could use, and Reveal alone gives it.
func TestSecretNeverPrints(t *testing.T) {
	const v = "EAAB-very-secret-token"
	s := tally.NewSecret(v)
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "secret", s, "any", any(s))
	js, err := json.Marshal(struct{ S tally.Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{
		fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x", s, s, s, s, s, s),
		fmt.Errorf("send: %v", s).Error(), string(js), logged.String(),
	} {
		if strings.Contains(out, v) || !strings.Contains(out, "[redacted]") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if s.Reveal() != v || s.Empty() || !tally.NewSecret("").Empty() {
		t.Error("Reveal/Empty")
	}
}

// TestKindOf: the outermost mark wins, an unmarked cancellation is an
// interruption, anything else a failure, and the mark keeps the message
// and the chain.
func TestKindOf(t *testing.T) {
	base := errors.New("boom")
	usage := tally.WithKind(tally.KindUsage, base)
	for _, tt := range []struct {
		err  error
		want tally.Kind
	}{
		{base, tally.KindFailure},
		{usage, tally.KindUsage},
		{fmt.Errorf("wrapped: %w", usage), tally.KindUsage},
		{tally.WithKind(tally.KindConfig, usage), tally.KindConfig},
		{fmt.Errorf("run: %w", context.Canceled), tally.KindInterrupted},
		{tally.WithKind(tally.KindConflict, context.Canceled), tally.KindConflict},
	} {
		if got := tally.KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if usage.Error() != "boom" || !errors.Is(usage, base) || tally.WithKind(tally.KindUsage, nil) != nil {
		t.Error("WithKind must keep the message and the chain, and nil stays nil")
	}
}

// TestVocabulary: platforms validate, days parse only as YYYY-MM-DD, and a
// decision prints as the audit summary's key.
func TestVocabulary(t *testing.T) {
	for _, p := range append(tally.UploadPlatforms, tally.PlatformNone) {
		if !p.Valid() || p.Uploaded() == (p == tally.PlatformNone) {
			t.Errorf("%s: Valid %v Uploaded %v", p, p.Valid(), p.Uploaded())
		}
	}
	if _, err := tally.ParsePlatform("facebook"); err == nil {
		t.Error("facebook is a source, not a platform")
	}
	for _, s := range []string{"2026-11-1", "2026-13-01", "20261101", "2026-11-01 ", ""} {
		if _, err := tally.ParseDay(s); err == nil {
			t.Errorf("ParseDay(%q) accepted", s)
		}
	}
	if d, err := tally.ParseDay("2026-02-28"); err != nil || d.Add(1) != "2026-03-01" {
		t.Errorf("ParseDay/Add: %s %v", d.Add(1), err)
	}
	if got := tally.Drop(tally.ReasonGPC).String(); got != "dropped:gpc" {
		t.Errorf("Drop(gpc) = %s", got)
	}
	if got := (tally.Decision{Outcome: tally.Accepted}).String(); got != "accepted" {
		t.Errorf("accepted = %s", got)
	}
}
