package snippet

import (
	"bytes"
	"slices"
	"testing"

	"github.com/tally-health/tally/config"
)

// TestScriptConsentSourceIsAllowedByDefault checks that the consent source
// tally.js sends when the site gives none is on the default
// consent.sources, so the default setup keeps its evidence.
func TestScriptConsentSourceIsAllowedByDefault(t *testing.T) {
	const sent = `body.source = typeof opts.source === 'string' ? opts.source : 'tally.js';`
	if !bytes.Contains(source, []byte(sent)) {
		t.Fatalf("tally.js no longer sends 'tally.js' as its default consent source (want %q)", sent)
	}
	if !slices.Contains(config.Default().Consent.Sources, "tally.js") {
		t.Errorf("consent.sources default %v lacks tally.js", config.Default().Consent.Sources)
	}
}
